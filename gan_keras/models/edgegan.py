"""EDGEGAN: seed 000's three techniques for small datasets (Song & Kim 2023) on the DCGAN networks.

* **Common Feature Training** (CFT, eq. 1): a learned linear layer maps the sampled z (size N,
  N(0, 1)) to size N + FD before the generator, trained with it. FD ("feature differences")
  defaults to 1, where the paper starts.
* **Mean Rescaling** (MR, eq. 2): one random mean mu ~ U(-1, 1) added to every latent vector after
  CFT, so that latent vectors do not all share mean 0.
* **Edge loss** (eq. 3): in the training step, ``gan_keras.training.edgegan``.

Flags switch each technique off, so the paper's ablation is five command lines (README):
``--cft off``, ``--mean-rescaling off``, ``--edge-loss off``. With all three off EDGEGAN is the DCGAN
baseline trained by the same step. ``--arch radford`` puts the techniques on seed 002's DCGAN
networks (32x32, 64x64) instead of the dissertation's (28x28, 64x64).

Choices the paper leaves open, made here:

* CFT's layer has no bias (eq. 1 is a plain weighted sum) and Keras' Glorot-uniform initialisation,
  which keeps z's scale (variance about 1); PyTorch's default ``nn.Linear`` initialisation, which
  the authors may have used, would shrink it to about 1/3.
* MR draws a fresh mu for every latent vector whenever the generator runs, in training *and* when
  sampling (the generator's distribution includes it): the fixed-noise sample grids therefore move a
  little between checkpoints even for a fixed z. mu comes from the layer's own seed generator, whose
  state is one of the generator's variables (saved in every checkpoint and the .keras file).
* Adam(2e-4, 0.5) and the batch size of the command line, as the DCGAN baseline: the paper's
  Adam lr 1e-2 and batch 32 are its setting for all three compared models, not part of the
  technique, and are one flag away (``--lr 1e-2``, batch 32).
"""
from __future__ import annotations

import keras
from keras import layers, ops

from gan_keras.hparams import HParam
from gan_keras.models import dcgan
from gan_keras.models.blocks import RandomLayer
from gan_keras.models.spec import ModelSpec
from gan_keras.training.edgegan import EdgeGANStep

ON_OFF = ("on", "off")
CFT = HParam("cft", "on", "EDGEGAN's Common Feature Training: a learned linear map of z to N + FD (eq. 1)",
             "choice", ON_OFF)
FEATURE_DIFF = HParam("feature_diff", 1, "EDGEGAN's FD: CFT's output has latent_dim + FD entries", "positive_int")
MEAN_RESCALING = HParam("mean_rescaling", "on", "EDGEGAN's Mean Rescaling: add one mu ~ U(-1, 1) to each "
                        "latent vector after CFT (eq. 2)", "choice", ON_OFF)


@keras.saving.register_keras_serializable(package="gan_keras")
class MeanRescaling(RandomLayer):
    """Eq. (2): z + mu with one mu ~ U(low, high) per latent vector, drawn on every call."""

    def __init__(self, low=-1.0, high=1.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, z):
        from gan_keras.training.distribute import replica_slice

        # Over several devices, each replica's rows of the one-device draw (blocks.GANDropout's rule).
        mu = replica_slice(lambda n: keras.random.uniform((n, 1), self.low, self.high, seed=self.seed_generator),
                           ops.shape(z)[0])
        return z + ops.cast(mu, z.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


def cft_and_mr(latent_dim, cft="on", feature_diff=1, mean_rescaling="on"):
    """The layers in front of G: [CFT Dense(N + FD)] -> [MeanRescaling], and G's input size.

    With both techniques off there are none: G is then the DCGAN generator itself (the ablation's
    baseline).
    """
    width = latent_dim + feature_diff if cft == "on" else latent_dim
    front = []
    if cft == "on":
        front.append(layers.Dense(width, use_bias=False, name="common_feature_training"))
    if mean_rescaling == "on":
        front.append(MeanRescaling(name="mean_rescaling"))
    return front, width


PARAMS = ("cft", "feature_diff", "mean_rescaling")
SPEC = ModelSpec(
    name="EDGEGAN",
    description="Seed 000's CFT, Mean Rescaling and edge loss (Song & Kim 2023) on the DCGAN networks",
    networks={arch: dcgan.SPEC.networks[arch].with_latent_front(cft_and_mr, PARAMS, "CFT and MR")
              for arch in ("dissertation", "radford")},
    training_form="train_step",
    loss="bce",            # the row EdgeGANStep's adversarial part follows (recorded in config.json)
    train_step=EdgeGANStep,
    params=(CFT, FEATURE_DIFF, MEAN_RESCALING),
)
