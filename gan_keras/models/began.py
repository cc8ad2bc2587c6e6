"""BEGAN (Berthelot et al. 2017) as seed 001 compares it: an auto-encoder discriminator, k_t control.

Networks: ``began_networks`` (n = 128, z = 64, ELU, nearest-neighbour upsampling; 64x64x3 total
15,121,990 as REFERENCE.md; a 28x28x1 variant derived the same way). Training: its own train step
(``gan_keras.training.began.BEGANStep``): L(v) = |v - D(v)|^eta (eta 1, L1, as BEGAN's code),
L_D = L(x) - k_t L(G(z_D)), L_G = L(G(z_G)), k_t by proportional control, M_global and a
mode-collapse flag logged.
Settings (seed 001, section 5): z ~ U[-1, 1]^64, Adam(1e-4, 0.9, 0.999); batch 128 in the paper.
"""
from gan_keras.models.began_networks import began_discriminator, began_family, began_generator
from gan_keras.models.spec import ModelSpec
from gan_keras.training.began import BEGANStep

SPEC = ModelSpec(
    name="BEGAN",
    description="Boundary equilibrium GAN (Berthelot et al. 2017), seed 001's baseline; auto-encoder D",
    networks={"began": began_family(began_generator, began_discriminator)},
    training_form="train_step",
    train_step=BEGANStep,
    defaults=BEGANStep.PUBLISHED_DEFAULTS,
)
