"""BEGAN-CS (Chang et al. 2018), seed 001's baseline: BEGAN plus a latent-space constraint.

Networks: ``began_networks``, exactly REFERENCE.md's table from the authors' code (64x64x3:
D 18,371,267 + G 2,258,051 = 20,629,318). Training: ``gan_keras.training.began.BEGANCSStep``, BEGAN's
step with alpha L_c(z_D, Enc(G(z_D))) added to D's loss (alpha 0.1). Published defaults from the
authors' code (``BEGAN_CS.py``): L2 reconstruction as ||v - D(v)||_2 of the batch over B (``--eta 2
--l2-form batch_norm``) and L_c the mean of |z_D - Enc(G(z_D))| (``--constraint-form mean_abs``).
"""
from gan_keras.models.began_networks import began_cs_discriminator, began_cs_generator, began_family
from gan_keras.models.spec import ModelSpec
from gan_keras.training.began import BEGANCSStep

SPEC = ModelSpec(
    name="BEGANCS",
    description="BEGAN with a constraint loss (Chang et al. 2018), seed 001's baseline; REFERENCE.md's table",
    networks={"began-cs": began_family(began_cs_generator, began_cs_discriminator)},
    training_form="train_step",
    train_step=BEGANCSStep,
    defaults=BEGANCSStep.PUBLISHED_DEFAULTS,
)
