"""LSGAN (Mao et al. 2016) as seed 002 trained it beside DCGAN.

The least-squares loss: D regresses real images to 1 and fakes to 0 with a mean squared error and
has no sigmoid (a linear output); G is trained to make D output 1 on its images:

    min_D  E_x[(D(x) - 1)^2] + E_z[D(G(z))^2]        min_G  E_z[(D(G(z)) - 1)^2]

That is the ``least_squares`` row of the loss table (``gan_keras.training.losses``), trained the
dissertation's way (stacked ``train_on_batch``), so this module only chooses networks and settings:

* networks: the dissertation's DCGAN networks (Figures 4-4 and 4-21) with a linear output by default,
  or, with ``--arch radford``, the DCGAN paper's networks that seed 002 used (32x32 and 64x64);
* Adam(2e-4, beta_1 0.5), batch 128 (seed 002's Table 2): the shared defaults already.
"""
from gan_keras.models import dcgan, radford
from gan_keras.models.spec import ModelSpec

SPEC = ModelSpec(
    name="LSGAN",
    description="Least-squares GAN (Mao et al. 2016) as in seed 002: DCGAN networks, linear D, MSE loss",
    networks={"dissertation": dcgan.networks(output_activation="linear"),
              "radford": radford.networks(output_activation="linear")},
    training_form="stacked",
    loss="least_squares",
)
