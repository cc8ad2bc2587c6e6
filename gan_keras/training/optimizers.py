"""The optimizers as the papers' code computed them, where Keras 3 computes them differently.

``make_optimizer`` (``hparams.py``) builds every run's optimizers. Adam and SGD are Keras 3's own:
their update is the one Keras 2.2 computed (Adam: ``lr_t * m / (sqrt(v) + epsilon)`` with the
bias corrections folded into ``lr_t``). RMSprop is not, and that matters for WGAN.

RMSprop: where epsilon sits
---------------------------
Keras 2.2 (Keras-GAN's ``wgan.py``, which the dissertation follows) and PyTorch (the WGAN authors'
code) both update ``w -= lr * g / (sqrt(v) + epsilon)``. Keras 3 puts epsilon *inside* the square
root, ``w -= lr * g / sqrt(v + epsilon)``, so with its default 1e-7 no step is taken as if the
gradient's running RMS were below sqrt(1e-7) ~ 3.2e-4. A clipped WGAN critic's gradients (and so
its generator's) are far below that: in the dissertation's WGAN at initialisation the median
|gradient| is 5e-7 to 5e-6, and Keras 3's RMSprop moves the generator's weights 100 to 740 times
less per step (the critic's 3 to 38 times) than RMSprop(5e-5) did in the dissertation (README,
"WGAN's RMSprop"; tests/test_optimizers.py checks it on the published 28x28 WGAN). The ``RMSprop``
below is Keras 3's with the one line changed back.
"""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="gan_keras")
class RMSprop(keras.optimizers.RMSprop):
    """RMSprop with epsilon outside the square root, as Keras 2.2 and PyTorch computed it.

    ``velocity = rho * velocity + (1 - rho) * g**2``; ``w -= lr * g / (sqrt(velocity) + epsilon)``.
    Only the plain form is provided (no momentum, not centered: RMSprop(5e-5) of WGAN); the other
    forms are refused rather than computed the Keras 3 way. The defaults (rho 0.9, epsilon 1e-7)
    are Keras 2.2's, which are also Keras 3's. The state (one velocity per variable) is Keras 3's,
    so checkpoints hold the same variables either way.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, name="rmsprop", **kwargs):
        if kwargs.get("momentum") or kwargs.get("centered"):
            raise ValueError("gan_keras's RMSprop is the plain Keras 2.2 form: no momentum, not centered")
        kwargs.pop("momentum", None)
        kwargs.pop("centered", None)
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, name=name, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        self.assign(velocity, ops.add(ops.multiply(self.rho, velocity),
                                      ops.multiply(1 - self.rho, ops.square(gradient))))
        # Keras 3: lr * g / sqrt(velocity + epsilon). Keras 2.2 and PyTorch: epsilon outside.
        self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient),
                                             ops.add(ops.sqrt(velocity), self.epsilon)))
