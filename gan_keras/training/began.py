"""BEGAN's and BEGAN-CS's training steps (seed 001, Park, Huh, Kim 2020, eqs. 1-10), keras.io style.

The discriminator D is an auto-encoder returning ``[reconstruction, code]``. One ``train_step`` is
one iteration: D and G each take one optimizer step, then the control variable k_t moves.

* L(v) = |v - D(v)|^eta (eq. 1), eta in {1, 2}, on one of two scales (``l2_form``, read only
  with eta 2; L1 is the per-pixel mean in every code, and so here):

  - "pixel_mean" (the declared default, and the only form before ``l2_form`` existed): the mean
    over each image's pixels, then the mean over the batch. Per-pixel mean: BEGAN's code
    (``tf.reduce_mean(tf.abs(AE(x) - x))``), which keeps gamma, lambda_k, k_t and M_global on one
    scale whatever the image size and batch; batch mean: the expectation E[L] of eqs. 6-7.
  - "batch_norm" (the BEGAN-CS authors' code, ``tf.sqrt(2 * tf.nn.l2_loss(out - x)) /
    batch_size``): ||v - D(v)||_2, the Euclidean norm of the whole batch's residual, over the
    batch size B. For an rms residual r over B images of P values it is r sqrt(P / B), not r^2:
    r = 0.09 at 128 x 64x64x3 gives 0.882 where "pixel_mean" gives 0.0081. Seed 001's Table 3
    (M_global 1.50 BEGAN-CS, 1.12 BEGAN v3 with L2) is on this scale, so a run is comparable
    with it only at the paper's batch 128 and 64x64x3. The published default of BEGAN-CS and
    BEGAN v3 (with eta 2: BEGAN v3's "As with BEGAN-CS, we used L2 loss"); plain BEGAN keeps
    BEGAN's code, L1. Refused over several replicas (``--strategy``): each replica holds B / N
    images, so its loss would be the norm of its own part, and the replicas' averaged gradients
    would follow the mean of N such square roots, not the square root of the whole batch's sum:
    N devices would not compute what one does.

* L_D = L(x) - k_t L(G(z_D)); L_G = L(G(z_G)) (eq. 8); z_D and z_G are independent draws, as
  eq. 8 names them.
* The updates are simultaneous, as in BEGAN's (carpedm20's) code: L(x), L(G(z_D)) and L(G(z_G))
  all come from the weights at the start of the iteration, then D and G both step. So the logged
  losses, the k update and M_global describe one state of the networks. (That code draws one z
  for both networks. The BEGAN-CS authors' code also draws one z, but updates alternately: D
  steps, then G's loss is taken on the updated D, then k and M_global come from a third pass.)
* Learning rates are constant: carpedm20's BEGAN code halves both every 100,000 steps
  (``lr_update_step``); no code path here does (``--lr`` sets the constant).
* k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1), once per iteration, with the
  L(x) of D's loss and the generator's loss L(G(z_G)) (eq. 10 and BEGAN's code; eq. 8 prints
  "k_t - lambda_k(...)", a sign typo: k must grow while G's images are reconstructed too well;
  eq. 10's "for the epoch" is read as BEGAN's per-iteration update; the clip is the text's
  "k_t is a real number between 0 and 1", as in BEGAN's code). k_t is a non-trainable variable
  of the step, saved with every checkpoint. The logged k_t is the value after the update.
  gamma must lie in (0, 1] (eq. 7's "a real number between 0 and 1").
* M_global = L(x) + |gamma L(x) - L(G(z_G))|, the same values as the k update. The paper keeps
  the checkpoint of lowest M_global; nothing here picks it: the minimum is in log.csv's
  ``m_global`` column (and ``plots/m_global.png``), and ``GAN_evaluation.py --checkpoint N``
  evaluates the saved checkpoint nearest to it (one every ``save_model_interval`` iterations).
* BEGAN-CS (eqs. 9-10) adds alpha L_c to L_D only ("optimized only for the discriminator"), with
  L_c comparing z_D with Enc(G(z_D)), D's code of the same fake batch as L(G(z_D)), in one of two
  forms (``constraint_form``):

  - "l2_norm" (the declared default, the only form before ``constraint_form`` existed):
    ||z_D - Enc(G(z_D))||_2 per sample, then the batch mean (the paper's ||.|| carries no
    subscript; the batch mean is the expectation over z_D, as for L).
  - "mean_abs" (the authors' code, ``tf.reduce_mean(tf.abs(D_fake_code - z))``): the mean of
    |z_D - Enc(G(z_D))| over all B x 64 elements. About 9x weaker: for a code that ignores z ~
    U[-1, 1]^64 it reads E|z| = 0.5 where "l2_norm" reads E||z||, about sqrt(64 / 3) = 4.6. The
    published default of BEGAN-CS and BEGAN v3.

* DiffAugment (``--diffaugment``): every batch D sees is v = T(batch) (``self.augment``, its own
  draws per batch), and its loss is L(v) = |v - D(v)|^eta: D reconstructs the augmented image
  (a target of the un-augmented one would ask D to undo T, which is not BEGAN's loss). BEGAN-CS's
  L_c compares z_D with Enc(T(G(z_D))), the code of the same forward pass as L(T(G(z_D))), because
  (1) D then only ever sees augmented images, DiffAugment's rule (a 4th, un-augmented pass on the
  fakes would show D the un-augmented fakes again and cost a forward pass), and (2) reconstruction
  and code describe one image, as without T. The price: L_c also asks Enc to map T(G(z)) to z,
  i.e. to be invariant to T. k_t, M_global and the logged losses are those of the augmented
  batches. ``sample_grids`` stays D's reconstruction of the un-augmented fixed batch.
  With "none" T is the identity and every value is what it was without DiffAugment.

Mode collapse (section 5: "mode collapse occurred exactly ... where the k value dropped
suddenly") is flagged by a rule with its own saved state: ``collapse`` is 1 at the iteration
where k_t first falls below ``collapse_ratio`` (0.5) times its maximum over the previous
``collapse_window`` iterations, provided that maximum is at least ``collapse_floor`` (so the
noise of a k_t near 0 at the start never counts). "Sudden" therefore means "halved within the
window": a geometric decay with a half-life longer than the window never fires. After firing the
rule is disarmed until k_t is back above the midpoint between the threshold and the window's
maximum (``(1 + ratio) / 2`` times it: it recovered, or the window slid past the old peak and k_t
settled), so a k_t that lingers near the threshold is one event, and a later collapse is a new
one. The window (2000 iterations, ~1.3 CelebA epochs at batch 128) is far longer than noise
and far shorter than the 300-epoch runs whose k_t plots showed the fall; k_t can move at most
lambda_k |gamma L(x) - L(G)| per iteration, so even a real collapse takes hundreds of iterations.
The window's length is the shape of a saved variable: a run resumes with the same collapse_window.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from gan_keras.errors import ConfigError
from gan_keras.hparams import HParam
from gan_keras.training import distribute
from gan_keras.training.distribute import replica_mean, replica_share
from gan_keras.training.logspec import D_LOSS, G_LOSS, LOSSES_PLOT, LogSpec, LogValue, Plot
from gan_keras.training.train_step import GANTrainStep

# Section 5 / appendix: z in [-1, 1]^64, Adam(1e-4, 0.9, 0.999, epsilon 1e-8), same rate for G and D. For the
# model specs' ``defaults`` (the published differences from the shared declarations).
PUBLISHED_DEFAULTS = dict(latent="uniform", latent_dim=64, d_lr=1e-4, g_lr=1e-4, beta_1=0.9, beta_2=0.999,
                          optimizer_epsilon=1e-8)
# BEGAN-CS and BEGAN v3 add the L2 loss and the constraint as the BEGAN-CS authors' code computes them.
CS_PUBLISHED_DEFAULTS = {**PUBLISHED_DEFAULTS, "eta": 2, "l2_form": "batch_norm", "constraint_form": "mean_abs"}

L2_FORMS = ("pixel_mean", "batch_norm")
CONSTRAINT_FORMS = ("l2_norm", "mean_abs")

ETA = HParam("eta", 1, "BEGAN reconstruction norm eta in L(v) = |v - D(v)|^eta: 1 (L1) or 2 (L2)", "positive_int")
# The declared defaults of the two forms are the behaviour from before they existed (a saved run
# without them resumes with these); BEGAN-CS and BEGAN v3 publish the authors' forms instead.
L2_FORM = HParam("l2_form", "pixel_mean", "BEGAN family's L2 loss (eta 2 only): pixel_mean, the mean squared "
                 "error per image, then the batch mean; or batch_norm, ||v - D(v)||_2 of the whole batch / B "
                 "(the BEGAN-CS authors' code; Table 3's scale at batch 128; one device only)", "choice", L2_FORMS)
GAMMA = HParam("gamma", 0.5, "BEGAN diversity ratio gamma = E[L(G(z))] / E[L(x)], in (0, 1]", "positive_float")
LAMBDA_K = HParam("lambda_k", 0.001, "BEGAN learning rate lambda_k of the control variable k_t", "positive_float")
K_0 = HParam("k_0", 0.0, "BEGAN initial k_t, in [0, 1] (k_t is clipped there)", "unit_interval")
COLLAPSE_WINDOW = HParam("collapse_window", 2000, "mode-collapse flag: iterations over which k_t's recent "
                         "maximum is taken", "positive_int")
COLLAPSE_RATIO = HParam("collapse_ratio", 0.5, "mode-collapse flag: fires when k_t falls below this fraction "
                        "of its recent maximum", "fraction")
COLLAPSE_FLOOR = HParam("collapse_floor", 0.01, "mode-collapse flag: only when k_t's recent maximum is at "
                        "least this", "fraction")
ALPHA = HParam("alpha", 0.1, "BEGAN-CS / BEGAN v3 weight alpha of the latent constraint loss", "positive_float")
CONSTRAINT_FORM = HParam("constraint_form", "l2_norm", "BEGAN-CS / BEGAN v3 constraint L_c: l2_norm, "
                         "||z_D - Enc(G(z_D))||_2 per sample, then the batch mean; or mean_abs, the mean of "
                         "|z_D - Enc(G(z_D))| over all elements (the BEGAN-CS authors' code)", "choice",
                         CONSTRAINT_FORMS)

SPLIT_BATCH_NORM = ("--l2-form batch_norm (the L2 loss as ||v - D(v)||_2 of the whole batch / B) is not exact over "
                    "several devices: each replica holds part of the batch, and the square root of the whole "
                    "batch's sum does not split into the replicas' parts; use --l2-form pixel_mean or train on "
                    "one device")


def uses_batch_norm(hp) -> bool:
    """Whether L is the whole batch's norm (``l2_form`` is read only with eta 2)."""
    return hp.eta == 2 and hp.l2_form == "batch_norm"


def reconstruction_loss(images, reconstructions, eta, form="pixel_mean"):
    """L(v) (eq. 1) of a batch, eta 1 or 2. ``form`` (eta 2 only, see the module docstring):
    "pixel_mean", the mean over each image's pixels of |v - D(v)|^eta, then over the batch;
    "batch_norm", ||v - D(v)||_2 over the whole batch, divided by the batch size (1e-12 under the
    root: a finite gradient where D(v) = v exactly)."""
    if form not in L2_FORMS:
        raise ValueError(f"unknown l2_form {form!r}: choose {', '.join(L2_FORMS)}")
    diff = ops.abs(ops.cast(reconstructions, images.dtype) - images)
    if eta == 2 and form == "batch_norm":
        if replica_share()[1] > 1:   # built outside the strategy's scope (see BEGANStep.__init__)
            raise ConfigError(SPLIT_BATCH_NORM)
        batch = ops.cast(ops.shape(images)[0], diff.dtype)
        return ops.sqrt(ops.sum(ops.square(diff)) + 1e-12) / batch
    per_pixel = diff if eta == 1 else ops.square(diff)
    return ops.mean(ops.mean(per_pixel, axis=tuple(range(1, len(images.shape)))))


def constraint_loss(z, code, form="l2_norm"):
    """L_c between z and Enc(G(z)) (see the module docstring): "l2_norm", ||z - Enc(G(z))||_2 per
    sample, mean over the batch (1e-12 under the root: a finite gradient where Enc(G(z)) = z
    exactly); "mean_abs", the mean of |z - Enc(G(z))| over every element."""
    if code.shape[-1] != z.shape[-1]:
        raise ValueError(f"the constraint compares z ({z.shape[-1]}-d) with D's code ({code.shape[-1]}-d): "
                         "they must have the same size")
    if form not in CONSTRAINT_FORMS:
        raise ValueError(f"unknown constraint_form {form!r}: choose {', '.join(CONSTRAINT_FORMS)}")
    difference = z - ops.cast(code, z.dtype)
    if form == "mean_abs":
        return ops.mean(ops.abs(difference))
    return ops.mean(ops.sqrt(ops.sum(ops.square(difference), axis=-1) + 1e-12))


def next_k(k, loss_real, loss_fake, gamma, lambda_k):
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1) (eq. 10, BEGAN's clip)."""
    return ops.clip(ops.convert_to_tensor(k + lambda_k * (gamma * loss_real - loss_fake), "float32"), 0.0, 1.0)


def convergence_measure(loss_real, loss_fake, gamma):
    """M_global = L(x) + |gamma L(x) - L(G(z_G))|."""
    return loss_real + ops.abs(gamma * loss_real - loss_fake)


COLLAPSE = LogValue("collapse", "collapse", "mode collapse flag (sudden fall of k_t)", progress=False,
                    alarm="possible mode collapse: k_t fell below collapse_ratio of its maximum over the last "
                          "collapse_window iterations (seed 001: a sudden drop of k_t marks mode collapse)")
BEGAN_VALUES = (
    LogValue("d_loss", D_LOSS.label, "discriminator loss L_D"),
    LogValue("g_loss", G_LOSS.label, "generator loss L(G(z_G))"),
    LogValue("loss_real", "L(x)", "reconstruction loss of real images L(x)", progress=False),
    LogValue("loss_fake", "L(G)", "reconstruction loss L(G(z_G)) of G's batch (k update, M_global)", progress=False),
    LogValue("loss_fake_d", "L(G_D)", "reconstruction loss L(G(z_D)) of D's fake batch", progress=False),
    LogValue("k_t", "k", "control variable k_t (after this iteration's update)"),
    LogValue("m_global", "M", "convergence measure M_global = L(x) + |gamma L(x) - L(G(z_G))|"),
    COLLAPSE,
)
BEGAN_PLOTS = (
    LOSSES_PLOT,
    Plot("reconstruction.png", "reconstruction losses", ("loss_real", "loss_fake"), "L"),
    Plot("k_t.png", "control variable k_t", ("k_t",), "k_t", events=("collapse",)),
    Plot("m_global.png", "convergence measure M_global", ("m_global",), "M_global", events=("collapse",)),
)


class BEGANStep(GANTrainStep):
    """BEGAN (Berthelot et al. 2017, eq. 8 of seed 001). Subclasses add terms to D's loss through
    ``equilibrium_loss`` (the k-weighted part) and ``penalty`` (what is added after it)."""

    PARAMS = (ETA, GAMMA, LAMBDA_K, K_0, COLLAPSE_WINDOW, COLLAPSE_RATIO, COLLAPSE_FLOOR, L2_FORM)
    LOG = LogSpec(values=BEGAN_VALUES, plots=BEGAN_PLOTS)  # no "divergence": M_global measures convergence
    DECISION_THRESHOLD = None  # an auto-encoder D is not a classifier
    # draws through noise / replica_slice, k_t from replica_mean; --l2-form batch_norm is refused (__init__)
    REPLICABLE = True
    PUBLISHED_DEFAULTS = PUBLISHED_DEFAULTS

    def __init__(self, generator, discriminator, hp, seed=None, **kwargs):
        super().__init__(generator, discriminator, hp, seed=seed, **kwargs)
        if hp.eta not in (1, 2):
            raise ConfigError(f"--eta (eta): must be 1 or 2, got {hp.eta!r}")
        if not 0.0 < hp.gamma <= 1.0:
            raise ConfigError(f"--gamma (gamma): must be in (0, 1] (eq. 7's ratio E[L(G(z))] / E[L(x)], \"a real "
                              f"number between 0 and 1\"), got {hp.gamma!r}")
        if uses_batch_norm(hp) and distribute.replicas_in_scope() > 1:   # before a run starts, not at its first trace
            raise ConfigError(SPLIT_BATCH_NORM)
        self.k_t = keras.Variable(float(hp.k_0), dtype="float32", trainable=False, name="k_t")
        # The collapse rule's state: k_t of the previous collapse_window iterations (oldest first) and
        # whether the rule may fire (1) or waits for k_t to recover (0).
        self.k_history = keras.Variable(np.zeros(hp.collapse_window, np.float32), trainable=False, name="k_history")
        self.collapse_armed = keras.Variable(1.0, dtype="float32", trainable=False, name="collapse_armed")

    def extra_state_variables(self) -> list:
        return super().extra_state_variables() + [self.k_t, self.k_history, self.collapse_armed]

    # -- what subclasses change ----------------------------------------------------------------
    def reconstruction(self, images, outputs):
        """L(v) of a batch v and D's outputs for it, with this run's eta and ``l2_form``."""
        return reconstruction_loss(images, outputs[0], self.hp.eta, self.hp.l2_form)

    def code(self, outputs):
        """Enc(.) of D's outputs: the AE's code (a VAE's mean has the same place, outputs[1])."""
        return outputs[1]

    def equilibrium_loss(self, loss_real, loss_fake_d, real_out, fake_out):
        """L(x) - k_t L(G(z_D)), and extra values to log (none here)."""
        return loss_real - self.k_t * loss_fake_d, {}

    def penalty(self, z_d, fake_out):
        """What D's loss adds after the equilibrium part (nothing in BEGAN), and values to log."""
        return 0.0, {}

    # -- the control variable and the collapse flag --------------------------------------------
    def update_k(self, loss_real, loss_fake):
        k = next_k(self.k_t, loss_real, loss_fake, self.hp.gamma, self.hp.lambda_k)
        self.k_t.assign(k)
        return k

    def detect_collapse(self, k):
        """1.0 at the iteration where k_t first falls below collapse_ratio x its maximum over the
        previous collapse_window iterations (that maximum >= collapse_floor); else 0.0. Re-armed
        once k_t >= (1 + ratio) / 2 x that maximum. Updates the rule's state."""
        ratio, floor = self.hp.collapse_ratio, self.hp.collapse_floor
        history, armed = ops.convert_to_tensor(self.k_history), ops.convert_to_tensor(self.collapse_armed)
        peak = ops.max(history)
        fired = ops.logical_and(ops.logical_and(peak >= floor, k < ratio * peak), armed > 0.5)
        recovered = k >= 0.5 * (1.0 + ratio) * peak
        self.collapse_armed.assign(ops.where(fired, 0.0, ops.where(recovered, 1.0, armed)))
        self.k_history.assign(ops.concatenate([history[1:], ops.reshape(ops.cast(k, history.dtype), (1,))], axis=0))
        return ops.cast(fired, "float32")

    # -- one iteration --------------------------------------------------------------------------
    def train_step(self, data):
        real_batches, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = real_batches[0]
        batch_size = ops.shape(real)[0]
        # 1. Independent noise for D's fake batch and G's.
        z_d, z_g = self.noise(batch_size), self.noise(batch_size)

        # 2. Every loss from the weights at the start of the iteration (BEGAN's simultaneous update).
        def losses():
            # DiffAugment: D sees (and reconstructs) v = T(batch); with "none" v is the batch itself.
            seen_real = self.augment(real)
            fake_d = self.augment(self.generator(z_d, training=True))
            fake_g = self.augment(self.generator(z_g, training=True))
            real_out = self.discriminator(seen_real, training=True)
            fake_d_out = self.discriminator(fake_d, training=True)
            fake_g_out = self.discriminator(fake_g, training=True)
            loss_real = self.reconstruction(seen_real, real_out)
            loss_fake_d = self.reconstruction(fake_d, fake_d_out)
            loss_fake = self.reconstruction(fake_g, fake_g_out)
            equilibrium, logged = self.equilibrium_loss(loss_real, loss_fake_d, real_out, fake_d_out)
            penalty, more = self.penalty(z_d, fake_d_out)
            return dict(d_loss=equilibrium + penalty, g_loss=loss_fake, loss_real=loss_real, loss_fake=loss_fake,
                        loss_fake_d=loss_fake_d, **logged, **more)

        # 3. One step each: D on L_D (its own weights only), G on L(G(z_G)).
        values = self.minimize(losses, d_loss=(self.discriminator, self.d_optimizer),
                               g_loss=(self.generator, self.g_optimizer))
        # 4. Proportional control of k_t, the convergence measure and the collapse flag, from the
        #    whole batch's L(x) and L(G(z_G)): over several devices (--strategy mirrored) each
        #    replica's losses are means over its part, so every replica takes their mean and holds
        #    the one-device k_t.
        loss_real, loss_fake = replica_mean(values["loss_real"]), replica_mean(values["loss_fake"])
        k = self.update_k(loss_real, loss_fake)
        collapse = self.detect_collapse(k)
        return self.record(**values, k_t=k, collapse=collapse,
                           m_global=convergence_measure(loss_real, loss_fake, self.hp.gamma))

    def sample_grids(self, real) -> dict:
        """D's reconstructions of the fixed real batch (inference mode: a VAE decodes its mean)."""
        return {"reconstructions": keras.ops.convert_to_numpy(self.discriminator(real, training=False)[0])}


class BEGANCSStep(BEGANStep):
    """BEGAN-CS (Chang et al. 2018, eqs. 9-10): L_D = L(x) - k_t L(G(z_D)) + alpha L_c."""

    PARAMS = BEGANStep.PARAMS + (ALPHA, CONSTRAINT_FORM)
    PUBLISHED_DEFAULTS = CS_PUBLISHED_DEFAULTS
    LOG = LogSpec(
        values=BEGAN_VALUES + (LogValue("constraint", "L_c", "latent constraint L_c of z_D and Enc(G(z_D)) (its "
                                        "constraint_form; before alpha)", progress=False),),
        plots=BEGAN_PLOTS + (Plot("constraint.png", "latent constraint loss", ("constraint",), "L_c"),),
    )

    def penalty(self, z_d, fake_out):
        l_c = constraint_loss(z_d, self.code(fake_out), self.hp.constraint_form)
        return self.hp.alpha * l_c, {"constraint": l_c}
