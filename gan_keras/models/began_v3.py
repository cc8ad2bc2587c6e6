"""BEGAN v3 (Park, Huh, Kim 2020, seed 001): BEGAN-CS with a VAE discriminator.

Networks: ``began_v3_networks`` (``began_v3_generator``, ``began_v3_discriminator``), REFERENCE.md's
reconstruction (10,331,142 parameters at 64x64x3, the paper's count less its two learning-rate
scalars): a reconstruction consistent with the text, not a published table.
Training: ``gan_keras.training.began_v3.BEGANV3Step``: eq. (20) L_R = KL(x) - k_t KL(G(z)) and
eq. (21) L_D = ((L(x) - k_t L(G(z_D))) + L_R) / 2 + alpha L_c, with L2 reconstruction and L_c as
BEGAN-CS's code computes them (``--eta 2 --l2-form batch_norm --constraint-form mean_abs``: "As
with BEGAN-CS, we used L2 loss").
"""
from gan_keras.models.began_networks import began_family
from gan_keras.models.began_v3_networks import began_v3_discriminator, began_v3_generator
from gan_keras.models.spec import ModelSpec
from gan_keras.training.began_v3 import BEGANV3Step

SPEC = ModelSpec(
    name="BEGANV3",
    description="BEGAN v3 (Park et al. 2020), seed 001's proposal: VAE discriminator; a reconstruction",
    networks={"began-v3": began_family(began_v3_generator, began_v3_discriminator)},
    training_form="train_step",
    train_step=BEGANV3Step,
    defaults=BEGANV3Step.PUBLISHED_DEFAULTS,
)
