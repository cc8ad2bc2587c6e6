"""WGAN-GP (Gulrajani et al. 2017), sections 3.1.4 and 4.x.

Networks: at 28x28 exactly WGAN's (section 4.1.4); at 64x64 the DCGAN generator and the DCGAN
discriminator without any BatchNorm and with a linear output (Figure 4-27). BatchNorm is left
out of the critic because the gradient penalty treats each image on its own.
Training: its own ``train_step`` (``gan_keras.training.wgangp``): gradient penalty lambda 10 on
per-image uniform interpolates, 5 critic updates per iteration, Adam.
"""
from gan_keras.models import dcgan, wgan
from gan_keras.models.spec import ModelSpec, Networks
from gan_keras.training.wgangp import WGANGP


def critic_64(frozen_bn="batch"):
    """Figure 4-27 critic: 4,314,753 parameters, no BatchNorm, linear output."""
    return dcgan.discriminator_64(frozen_bn, output_activation="linear", batch_norm=False, name="critic")


SPEC = ModelSpec(
    name="WGANGP",
    description="WGAN with gradient penalty (Gulrajani et al. 2017); section 4.1.4 and Figure 4-27",
    networks={"dissertation": Networks(
        generators={(28, 28, 1): wgan.generator_28, (64, 64, 3): dcgan.generator_64},
        discriminators={(28, 28, 1): wgan.critic_28, (64, 64, 3): critic_64},
        source="section 4.1.4 and Figure 4-27")},
    training_form="train_step",
    train_step=WGANGP,
    # 3.1.4 says "Adam" without settings: lr 1e-4, beta_1 0.5, beta_2 0.9 (see README).
    defaults=dict(d_lr=1e-4, g_lr=1e-4, beta_1=0.5, beta_2=0.9, critic_steps=5, gp_weight=10.0),
)
