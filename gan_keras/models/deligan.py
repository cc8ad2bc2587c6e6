"""DeLiGAN (Gurumurthy, Sarvadevabhatla & Babu, CVPR 2017): seed 000's second baseline.

DeLiGAN keeps the GAN and replaces its latent N(0, I) by a *learned* mixture of K Gaussians with
equal weights 1/K. Component i has a mean mu_i and a diagonal standard deviation sigma_i (one value
per latent dimension). A latent vector is drawn by choosing a component i uniformly and
reparametrising a standard normal eps:

    z = mu_i + sigma_i * eps,        eps ~ N(0, I)

so mu and sigma are generator weights trained by backpropagation with the rest of G. Without help
the generator's loss pushes every sigma towards 0 (each component collapses to a point), so the
generator's loss gets the paper's regulariser on sigma (``SigmaRegularizer``).

Here DELIGAN is exactly the DCGAN baseline with that latent: the same networks (the
dissertation's 28x28 and 64x64, or seed 002's 32x32 and 64x64 with ``--arch radford``), the same
stacked ``train_on_batch`` engine, BCE loss and Adam(2e-4, 0.5). The generator is
``eps -> MixtureOfGaussiansLatent -> the DCGAN generator's layers`` (one flat Sequential), so its
parameter count is the DCGAN generator's plus 2 * K * latent_dim (e.g. 856,193 + 10,000 at 28x28).
The regulariser is a Keras weight regulariser on sigma: it enters the stacked G->D model's loss
(that model's ``losses`` are those of its trainable weights, G's, since D is frozen there) and never
D's own loss. The logged g_loss therefore includes it (at most sigma_weight, 0.05 by default,
while every sigma is at most 2).

Defaults and where they come from ("code" is the authors' repository val-iisc/deligan: TensorFlow
scripts for MNIST and the toy data, Theano scripts for CIFAR-10 and sketches):

* ``components`` K = 50: the MNIST and toy scripts (K equals their batch size, 50); the sketches and
  CIFAR-10 scripts use 100 (again their batch size).
* mu initialised ~ U(-1, 1): every script.
* ``sigma_init`` = 0.2 (all entries): the MNIST script (constant 0.2) and the sketches script
  (U(0.2, 0.2)); the toy script uses 0.02 and the CIFAR-10 script U(-0.2, 0.2).
* sigma is per component *and* per latent dimension (a K x latent_dim array): every script.
* The regulariser, as the code computes it: ``sigma_weight * mean((1 - sigma)^2)`` over all
  K * latent_dim entries, i.e. the paper's lambda * sum_i (1 - sigma_i)^2 / K with the squared
  difference also averaged over the latent dimensions. (Reading the paper's sum with a vector
  sigma_i summed over its dimensions would be latent_dim times larger for the same lambda; the
  code's lambdas go with the mean.)
* ``sigma_weight`` lambda = 0.05: the sketches script (a DCGAN-like generator from a 100-d z, BCE,
  the closest of the four to this setting); the CIFAR-10 script computes the same 0.05 term but
  never adds it to G's loss, and the MNIST script uses 1/3 and the toy script 0.1.
* The component of each sample: chosen uniformly at random per sample, from the layer's own
  ``keras.random.SeedGenerator``. The code instead ties row r of every batch to component r (its
  mixture arrays have the batch size as first dimension), so each batch holds each component
  exactly once; that is impossible when the batch size differs from K, and it is a stratified
  version of the same uniform choice.
* eps ~ N(0, 1): the shared ``latent`` hyperparameter (normal by default), as the MNIST, sketches
  and CIFAR-10 scripts train (the toy script draws U(-1, 1)).
* Not stated in the paper or code; chosen here: sigma is kept >= ``SIGMA_FLOOR`` = 1e-3 by a weight
  constraint that the optimizer applies after every update (Keras 3's ``Optimizer.apply``), so a
  large step can never make it negative or zero; the code has no such bound (the regulariser alone
  pulls sigma towards 1).
* The optimiser, batch size and the authors' extra tricks (their minibatch-discrimination D, the
  loss-threshold schedule that picks which network to update, learning-rate decay) are not part of
  DeLiGAN's latent and are not reproduced: DELIGAN differs from DCGAN only in the latent.

The component is drawn whenever the generator runs, in training *and* when sampling (sampling the
model means sampling the mixture), so the fixed-noise sample grids change a little between
checkpoints even for a fixed eps. The seed generator's state is one of the generator's variables:
checkpoints save it (a resumed run continues the same stream), and so does the ``.keras`` file.
"""
from __future__ import annotations

import keras
from keras import ops

from gan_keras.hparams import HParam
from gan_keras.models import dcgan
from gan_keras.models.blocks import RandomLayer
from gan_keras.models.spec import ModelSpec

SIGMA_FLOOR = 1e-3   # sigma >= this after every optimizer step (not in the paper or code; see above)
MU_RANGE = 1.0       # mu ~ U(-MU_RANGE, MU_RANGE) at initialisation (the authors' code)

COMPONENTS = HParam("components", 50, "DELIGAN's number K of Gaussian components in the learned latent "
                    "mixture (the authors' MNIST code: 50)", "positive_int")
SIGMA_INIT = HParam("sigma_init", 0.2, "DELIGAN's initial standard deviation of every component and "
                    "latent dimension (the authors' MNIST and sketches code: 0.2)", "positive_float")
SIGMA_WEIGHT = HParam("sigma_weight", 0.05, "DELIGAN's lambda: lambda * mean((1 - sigma)^2) is added to "
                      "the generator's loss (the authors' sketches code: 0.05)", "positive_float")


@keras.saving.register_keras_serializable(package="gan_keras")
class SigmaRegularizer(keras.regularizers.Regularizer):
    """DeLiGAN's sigma regulariser: ``weight * mean((1 - sigma)^2)`` over all entries of sigma.

    For sigma of shape (K, d) that is weight * sum_{i, j} (1 - sigma_ij)^2 / (K * d): the paper's
    lambda * sum_i (1 - sigma_i)^2 / K, averaged over the d latent dimensions as the authors' code does.
    """

    def __init__(self, weight=0.05):
        self.weight = float(weight)

    def __call__(self, sigma):
        return self.weight * ops.mean(ops.square(1.0 - sigma))

    def get_config(self):
        return {"weight": self.weight}


@keras.saving.register_keras_serializable(package="gan_keras")
class MinValue(keras.constraints.Constraint):
    """Keeps every entry >= ``floor`` (applied by the optimizer after each update)."""

    def __init__(self, floor=SIGMA_FLOOR):
        self.floor = float(floor)

    def __call__(self, w):
        return ops.maximum(w, ops.cast(self.floor, w.dtype))

    def get_config(self):
        return {"floor": self.floor}


@keras.saving.register_keras_serializable(package="gan_keras")
class MixtureOfGaussiansLatent(RandomLayer):
    """z = mu_c + sigma_c * eps with a component c ~ U{0, ..., K-1} drawn per sample, on every call.

    Weights: ``mu`` (K, d) ~ U(-mu_range, mu_range) and ``sigma`` (K, d) = sigma_init, both trainable;
    sigma carries ``SigmaRegularizer(sigma_weight)`` and ``MinValue(sigma_floor)``. The component
    comes from the layer's own ``keras.random.SeedGenerator`` (``blocks.RandomLayer``; seed None: drawn
    from Keras' global seed, which ``keras.utils.set_random_seed`` fixes). Its state is a variable of
    the layer (not a weight, so not counted by ``count_params``) and is also written to the ``.keras``
    file, so a loaded generator continues the saved component stream.

    The component is applied through a one-hot matrix product, so mu and sigma get dense gradients.
    """

    def __init__(self, components=50, sigma_init=0.2, sigma_weight=0.05, sigma_floor=SIGMA_FLOOR,
                 mu_range=MU_RANGE, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.components = int(components)
        self.sigma_init = float(sigma_init)
        self.sigma_weight = float(sigma_weight)
        self.sigma_floor = float(sigma_floor)
        self.mu_range = float(mu_range)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.mu = self.add_weight(
            shape=(self.components, dim), name="mu",
            initializer=keras.initializers.RandomUniform(-self.mu_range, self.mu_range))
        self.sigma = self.add_weight(
            shape=(self.components, dim), name="sigma",
            initializer=keras.initializers.Constant(self.sigma_init),
            regularizer=SigmaRegularizer(self.sigma_weight),
            constraint=MinValue(self.sigma_floor))

    def choose(self, eps):
        """One component index per row of ``eps``, uniform over the K components (advances the seed).
        Over N devices each replica takes its rows of the global batch's draw (``replica_slice``),
        so they draw what one device draws, not N copies of one replica's choice."""
        from gan_keras.training.distribute import replica_slice

        def draw(n):
            logits = ops.zeros((n, self.components), dtype=eps.dtype)
            return keras.random.categorical(logits, 1, dtype="int32", seed=self.seed_generator)[:, 0]

        return replica_slice(draw, ops.shape(eps)[0])

    def call(self, eps):
        one_hot = ops.one_hot(self.choose(eps), self.components, dtype=eps.dtype)
        mu = ops.matmul(one_hot, ops.cast(self.mu, eps.dtype))
        sigma = ops.matmul(one_hot, ops.cast(self.sigma, eps.dtype))
        return mu + sigma * eps

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "components": self.components, "sigma_init": self.sigma_init,
                "sigma_weight": self.sigma_weight, "sigma_floor": self.sigma_floor, "mu_range": self.mu_range}


def mixture_front(latent_dim, components=50, sigma_init=0.2, sigma_weight=0.05):
    """The layer in front of G (eps -> z of the same size)."""
    return [MixtureOfGaussiansLatent(components, sigma_init, sigma_weight, name="mixture_of_gaussians")], latent_dim


PARAMS = ("components", "sigma_init", "sigma_weight")
MIXTURE = "a learned mixture-of-Gaussians latent"


SPEC = ModelSpec(
    name="DELIGAN",
    description="DeLiGAN (Gurumurthy et al. 2017), seed 000's baseline: DCGAN with a learned "
                "mixture-of-Gaussians latent",
    networks={arch: dcgan.SPEC.networks[arch].with_latent_front(mixture_front, PARAMS, MIXTURE)
              for arch in ("dissertation", "radford")},
    training_form="stacked",
    loss="bce",
    params=(COMPONENTS, SIGMA_INIT, SIGMA_WEIGHT),
)
