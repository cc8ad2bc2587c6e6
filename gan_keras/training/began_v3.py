"""BEGAN v3's training step (seed 001, Park, Huh, Kim 2020, eqs. 20-21): BEGAN-CS with a VAE as D.

The discriminator returns ``[reconstruction, mean, log_var]``: with ``training=True`` it decodes a
latent sampled with its own seed generator (the reparameterisation of Figure 8), with
``training=False`` it decodes the mean. Everything else is :class:`BEGANCSStep`'s (iteration,
simultaneous updates, z_D / z_G, the k update, M_global, the collapse flag); this step only adds
the regularisation loss of eq. 20 inside eq. 21:

    L_R = KL(x) - k_t KL(G(z_D))
    L_D = ((L(x) - k_t L(G(z_D))) + L_R) / 2 + alpha L_c

Choices the paper leaves open, and why:

* KL(v) = KL(N(mean, exp(log_var)) || N(0, I)) = 0.5 sum(exp(log_var) + mean^2 - 1 - log_var), in
  closed form, summed over the latent dimensions (the KL of the whole 64-d posterior, as in eq. 18
  and Kingma & Welling), then averaged over the batch (the expectation over images, like L).
* G(z) in eq. 20 is D's fake batch G(z_D): L_R is part of L_D, so it uses the same fakes as
  L(G(z_D)); one k_t (eq. 21's) weighs both the reconstruction and the KL of the fakes.
* L_c compares z_D with mean(G(z_D)), in BEGAN-CS's form (``constraint_form``; published: the
  BEGAN-CS authors' mean of |z_D - Enc(G(z_D))| over all elements, "mean_abs"; the declared
  "l2_norm" is the per-sample Euclidean norm, batch mean): the encoder's mean is its
  deterministic encoding, BEGAN-CS's Enc(.). A sampled code would add the sampling noise, and
  L_c would then pull log_var down against the KL term.
* Reconstruction "used L2 losses" (section 4, appendix; "As with BEGAN-CS, we used L2 loss"):
  eta = 2 with ``l2_form`` "batch_norm" in ``PUBLISHED_DEFAULTS`` (BEGAN-CS's, the model spec's
  published differences), the BEGAN-CS authors' ||v - D(v)||_2 of the batch over B, on which
  Table 3's M_global (1.12) is measured at batch 128 (``began.py``); ``--eta 1`` gives Figure
  18's L1 run (a per-pixel mean; Table 3's 0.08). L(x) and L(G(z)) decode a sampled latent
  (training=True), a one-sample estimate of eq. 18's reconstruction term, as a VAE trains.
  Eq. 21 adds L and the KL terms with equal weights, so the scale of L sets their balance:
  with ``--l2-form pixel_mean`` L is about 100 times smaller at 64x64x3 and batch 128 (0.0081
  against 0.882 for an rms residual of 0.09), and the KL terms weigh about 100 times more in
  L_D than in the paper.
* G's loss stays L(G(z_G)) and the k update and M_global keep the reconstruction losses only: the
  paper changes only L_D (eq. 21 says "for theta_G", the label swap of eq. 9; it is D's loss).
* L_D is unbounded below through the fakes' KL: -k_t KL(G(z_D)) falls without limit as D encodes
  the fakes with a large log-variance or mean (as BEGAN's L_D does through -k_t L(G(z_D)), but
  exponentially in log_var). Nothing in the loss stops it; k's feedback limits it: the term
  weighs k_t, which falls whenever L(G(z_G)) exceeds gamma L(x) (a fake encoded with a large
  variance is decoded from a noisy sample, which raises L(G(z_G))), down to 0, where the term
  vanishes.
* Not implemented: "the weights were adjusted to constant per layer as the training
  progressed" (section 5, no rule given) and "we avoided the visual artifact problem by
  lowering the initial learning rate" (no value given). Here the weights are Glorot uniform
  with zero biases and train with no per-layer rescaling, at the stated constant Adam rate 1e-4
  for G and D (``--lr`` lowers it for the whole run; there is no schedule).
* DiffAugment (``--diffaugment``, see ``began.py``): KL(x) and KL(G(z_D)) are those of the
  augmented batches, KL(q(.|T(x))) and KL(q(.|T(G(z_D)))): eq. 18's ELBO is per image, so its
  reconstruction and KL terms must describe the same v = T(.), the one D's forward pass encoded.
"""
from __future__ import annotations

from keras import ops

from gan_keras.training.began import BEGANCSStep
from gan_keras.training.logspec import LogSpec, LogValue, Plot


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)): 0.5 sum over the latent dimensions of
    exp(log_var) + mean^2 - 1 - log_var, then the mean over the batch."""
    mean, log_var = ops.convert_to_tensor(mean, "float32"), ops.convert_to_tensor(log_var, "float32")
    per_image = 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)
    return ops.mean(per_image)


class BEGANV3Step(BEGANCSStep):
    """BEGAN v3 (eq. 21). A BEGANStep through BEGAN-CS, whose alpha L_c eq. 21 keeps."""

    PARAMS = BEGANCSStep.PARAMS
    PUBLISHED_DEFAULTS = BEGANCSStep.PUBLISHED_DEFAULTS  # L2 and the constraint as BEGAN-CS's code has them
    LOG = LogSpec(
        values=BEGANCSStep.LOG.values + (
            LogValue("kl_real", "KL(x)", "KL(q(.|x) || N(0, I)) of real images", progress=False),
            LogValue("kl_fake", "KL(G)", "KL(q(.|G(z_D)) || N(0, I)) of D's fake batch", progress=False)),
        plots=BEGANCSStep.LOG.plots + (Plot("kl.png", "KL regularisation (eq. 20)", ("kl_real", "kl_fake"), "KL"),),
    )

    def equilibrium_loss(self, loss_real, loss_fake_d, real_out, fake_out):
        """((L(x) - k_t L(G(z_D))) + L_R) / 2 with L_R = KL(x) - k_t KL(G(z_D)) (eqs. 20-21)."""
        began, logged = super().equilibrium_loss(loss_real, loss_fake_d, real_out, fake_out)
        kl_real, kl_fake = kl_divergence(real_out[1], real_out[2]), kl_divergence(fake_out[1], fake_out[2])
        regularisation = kl_real - self.k_t * kl_fake
        return (began + regularisation) / 2.0, {**logged, "kl_real": kl_real, "kl_fake": kl_fake}
