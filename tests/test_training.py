"""The training engines: who learns when, BatchNorm modes, clipping, the gradient penalty."""
import math

import keras
import numpy as np
import pytest

from gan_keras.models.blocks import GANBatchNormalization
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine
from gan_keras.training.losses import js_divergence_estimate, wasserstein_loss
from gan_keras.training.wgangp import gradient_penalty

MNIST = (28, 28, 1)


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


def fake_data(rng, batch_size, shape=MNIST):
    return lambda: rng.uniform(-1, 1, (batch_size, *shape)).astype(np.float32)


@pytest.fixture(scope="module")
def dcgan():
    spec = get_model("DCGAN")
    return build_engine(spec, spec.hyperparams(), MNIST)


def record_calls(engine):
    """Wrap D's and the stacked model's train_on_batch to snapshot every weight around each call."""
    D, G, calls = engine.discriminator, engine.generator, []

    def wrap(model, who):
        original = model.train_on_batch

        def spy(*args, **kwargs):
            before = (snapshot(D.weights), snapshot(G.weights))
            out = original(*args, **kwargs)
            calls.append((who, before, (snapshot(D.weights), snapshot(G.weights))))
            return out
        model.train_on_batch = spy
        return original

    originals = (wrap(D, "D"), wrap(engine.stacked, "stacked"))
    return calls, lambda: (setattr(D, "train_on_batch", originals[0]),
                           setattr(engine.stacked, "train_on_batch", originals[1]))


def test_stacked_pattern_trains_d_only_in_its_own_steps_for_several_batch_sizes(dcgan):
    """Through the engine: Keras 3 re-traces per batch shape, and in every traced variant D must
    learn in its own two steps (G fixed) and stay fixed, moving statistics included, in the stacked
    step while G learns. An engine that stopped setting D's flag before each call fails here."""
    e, rng = dcgan, np.random.default_rng(0)
    calls, restore = record_calls(e)
    try:
        for batch_size in (4, 7, 4, 3):
            calls.clear()
            e.train_iteration(fake_data(rng, batch_size), rng)
            assert [who for who, _, _ in calls] == ["D", "D", "stacked"], batch_size
            for who, (d0, g0), (d1, g1) in calls:
                d_moved = [not np.array_equal(a, b) for a, b in zip(d0, d1)]
                g_moved = [not np.array_equal(a, b) for a, b in zip(g0, g1)]
                trainable = [any(w is t for t in e.discriminator.trainable_weights) for w in e.discriminator.weights]
                if who == "D":
                    assert all(m for m, t in zip(d_moved, trainable) if t), f"D did not learn (batch {batch_size})"
                    assert not any(g_moved), f"G moved during D's step (batch {batch_size})"
                else:
                    assert not any(d_moved), f"D moved in the stacked step (batch {batch_size})"
                    g_trainable = [any(w is t for t in e.generator.trainable_weights) for w in e.generator.weights]
                    assert all(m for m, t in zip(g_moved, g_trainable) if t), f"G did not learn (batch {batch_size})"
    finally:
        restore()


def test_a_full_iteration_moves_both_networks(dcgan):
    rng = np.random.default_rng(1)
    d_before, g_before = snapshot(dcgan.discriminator.trainable_weights), snapshot(dcgan.generator.trainable_weights)
    for batch_size in (5, 6):
        logs = dcgan.train_iteration(fake_data(rng, batch_size), rng)
    assert all(changed(d_before, dcgan.discriminator.trainable_weights))
    assert all(changed(g_before, dcgan.generator.trainable_weights))
    assert set(logs) == {"d_loss", "d_acc", "g_loss", "divergence"}
    assert logs["divergence"] == pytest.approx(math.log(2) - logs["d_loss"])
    assert 0.0 <= logs["d_acc"] <= 1.0


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_frozen_batchnorm_modes(mode):
    layer = GANBatchNormalization(momentum=0.8, frozen_mode=mode)
    x = np.random.default_rng(0).normal(3.0, 2.0, (16, 5)).astype(np.float32)
    layer.build(x.shape)
    layer.moving_mean.assign(np.full(5, -1.0, np.float32))
    layer.moving_variance.assign(np.full(5, 4.0, np.float32))
    layer.trainable = False
    out = np.asarray(layer(x, training=True))
    if mode == "batch":  # Keras 2.2: the batch's own statistics
        expected = (x - x.mean(0)) / np.sqrt(x.var(0) + layer.epsilon)
    else:  # Keras 3: the moving statistics
        expected = (x + 1.0) / np.sqrt(4.0 + layer.epsilon)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), -1.0)  # never updated while frozen
    np.testing.assert_array_equal(layer.moving_variance.numpy(), 4.0)


def test_trainable_batchnorm_updates_moving_statistics():
    layer = GANBatchNormalization(momentum=0.8)
    x = np.full((8, 3), 5.0, np.float32)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.2 * 5.0, rtol=1e-6)


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_stacked_model_applies_the_chosen_frozen_bn_mode(mode):
    """Through the real stacked model, D's output on G(z) follows the chosen mode."""
    spec = get_model("DCGAN")
    e = build_engine(spec, spec.hyperparams(frozen_bn=mode), MNIST)
    for layer in e.discriminator.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0  # remove Dropout's noise so outputs can be compared exactly
    # Moving statistics far from any batch's, so the two modes differ clearly.
    for layer in e.discriminator.layers:
        if isinstance(layer, GANBatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.5, np.float32))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 3.0, np.float32))
    z = np.random.default_rng(0).standard_normal((6, 100)).astype(np.float32)
    images = e.generator(z, training=True)
    inference = np.asarray(e.discriminator(images, training=False))
    e.discriminator.trainable = False
    stacked = np.asarray(e.stacked(z, training=True))
    e.discriminator.trainable = True
    with_batch_stats = np.asarray(e.discriminator(images, training=True))
    expected = with_batch_stats if mode == "batch" else inference
    other = inference if mode == "batch" else with_batch_stats
    np.testing.assert_allclose(stacked, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(stacked, other, rtol=1e-3, atol=1e-4)


def test_wgan_clips_every_critic_weight_after_each_update():
    """Each of the 2 x critic_steps critic updates, and the generator's update, must start from
    clipped weights: an engine clipping once per iteration (or only at its end) fails here."""
    spec = get_model("WGAN")
    hp = spec.hyperparams(d_lr=0.05)  # big steps, so unclipped weights would leave the box
    e = build_engine(spec, hp, (64, 64, 3))
    rng = np.random.default_rng(0)
    calls, restore = record_calls(e)
    try:
        e.train_iteration(fake_data(rng, 2, (64, 64, 3)), rng)
    finally:
        restore()
    assert [who for who, _, _ in calls] == ["D", "D"] * 5 + ["stacked"]
    trainable = [any(w is t for t in e.discriminator.trainable_weights) for w in e.discriminator.weights]
    assert any(max(np.abs(w).max() for w, t in zip(after, trainable) if t) > 0.01 for _, _, (after, _) in calls[:-1]), \
        "the updates never left the box: the test could not see a missing clip"
    for i, (who, (before, _), _) in enumerate(calls[1:], 1):
        worst = max(np.abs(w).max() for w, t in zip(before, trainable) if t)
        assert worst <= 0.01 + 1e-7, f"call {i} ({who}) started from unclipped critic weights (max |w| {worst})"
    for w in e.discriminator.trainable_weights:
        assert np.abs(w.numpy()).max() <= 0.01 + 1e-7, w.path
    moving_var = [w for w in e.discriminator.non_trainable_weights if "moving_variance" in w.path]
    assert moving_var and max(np.abs(w.numpy()).max() for w in moving_var) > 0.01  # not clipped by default


def test_wgan_clip_all_weights_also_clips_batchnorm_statistics():
    spec = get_model("WGAN")
    e = build_engine(spec, spec.hyperparams(clip_all_weights=True), (64, 64, 3))
    rng = np.random.default_rng(0)
    e.train_iteration(fake_data(rng, 2, (64, 64, 3)), rng)
    for w in e.discriminator.weights:
        assert np.abs(w.numpy()).max() <= 0.01 + 1e-7, w.path


def test_wasserstein_loss_and_estimate():
    y_true = np.array([[-1.0], [-1.0], [1.0], [1.0]], np.float32)
    y_pred = np.array([[2.0], [4.0], [1.0], [-3.0]], np.float32)
    per_image = np.asarray(wasserstein_loss(y_true, y_pred))
    np.testing.assert_allclose(per_image, [-2, -4, 1, -3])   # per image: a strategy divides by the global batch
    assert float(np.mean(per_image)) == pytest.approx((-2 - 4 + 1 - 3) / 4)   # the batch loss Keras compiles
    assert js_divergence_estimate(math.log(2)) == pytest.approx(0.0)


def linear_critic(shape=(4, 4, 1)):
    """f(x) = sum(w * x), and a real batch, a fake batch and per-image epsilons."""
    w = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].kernel.assign(w.reshape(-1, 1))
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(8, *shape)).astype(np.float32), rng.normal(size=(8, *shape)).astype(np.float32)
    return critic, w, (real, fake, rng.uniform(size=(8, 1, 1, 1)).astype(np.float32))


def test_gradient_penalty_of_a_linear_critic_is_known_analytically():
    """f(x) = sum(w * x) has input gradient w everywhere, so GP = (||w|| - 1)^2 for any images."""
    critic, w, (real, fake, eps) = linear_critic()
    expected = (np.linalg.norm(w) - 1.0) ** 2
    assert float(gradient_penalty(critic, real, fake, eps)) == pytest.approx(expected, rel=1e-5)
    critic.layers[-1].kernel.assign(w.reshape(-1, 1) / np.linalg.norm(w))  # a 1-Lipschitz critic: GP 0
    assert float(gradient_penalty(critic, real, fake, eps)) == pytest.approx(0.0, abs=1e-6)


def test_wgangp_iteration_trains_both_and_logs_the_penalty():
    spec = get_model("WGANGP")
    e = build_engine(spec, spec.hyperparams(critic_steps=2), MNIST)
    rng = np.random.default_rng(0)
    d_before, g_before = snapshot(e.discriminator.trainable_weights), snapshot(e.generator.trainable_weights)
    logs = e.train_iteration(fake_data(rng, 4), rng)
    moved = dict(zip((w.path for w in e.discriminator.trainable_weights), changed(d_before, e.discriminator.trainable_weights)))
    # The output bias cancels in E[f(fake)] - E[f(real)] and the penalty ignores it: it cannot move.
    output_bias = e.discriminator.layers[-1].bias.path
    assert not moved.pop(output_bias) and all(moved.values())
    assert all(changed(g_before, e.generator.trainable_weights))
    assert set(logs) == {"d_loss", "g_loss", "divergence", "gp"} and logs["gp"] >= 0
    assert e.d_optimizer.iterations.numpy() == 2 and e.g_optimizer.iterations.numpy() == 1


def test_wasserstein_estimate_has_the_right_sign_through_the_engine():
    """The logged divergence is E[f(real)] - E[f(fake)] of the critic, not its negative."""
    spec = get_model("WGAN")
    e = build_engine(spec, spec.hyperparams(d_lr=1e-12, critic_steps=1, clip_value=100.0), MNIST)
    for layer in e.discriminator.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    real = np.ones((6, *MNIST), np.float32)
    rng = np.random.default_rng(0)
    noise = np.random.default_rng(0).standard_normal((6, 100), dtype=np.float32)  # what the engine draws
    f_real = float(np.mean(e.discriminator.predict_on_batch(real)))
    f_fake = float(np.mean(e.discriminator.predict_on_batch(e.generate(noise))))
    assert abs(f_real - f_fake) > 1e-3, "the test needs distinguishable scores"
    logs = e.train_iteration(lambda: real, rng)
    assert logs["divergence"] == pytest.approx(f_real - f_fake, rel=1e-3, abs=1e-6)


def test_loss_table_rows():
    from gan_keras.training.losses import LOSSES, triangular_estimate

    ls = LOSSES["least_squares"]
    assert (ls.real_label, ls.fake_label, ls.output_activation, ls.accuracy) == (1.0, 0.0, "linear", False)
    y_true = np.array([[1.0], [1.0], [0.0], [0.0]], np.float32)
    y_pred = np.array([[0.5], [2.0], [0.0], [-1.0]], np.float32)
    loss = keras.losses.get(ls.keras_loss)
    assert float(np.mean(loss(y_true, y_pred))) == pytest.approx((0.25 + 1.0 + 0.0 + 1.0) / 4)  # mean (y - D)^2
    # The optimal LSGAN D on p and q outputs p/(p+q); its mean loss is 1/4 - Delta/8. Two discrete
    # distributions, closed form:
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.3, 0.6])
    d = p / (p + q)
    d_loss = 0.5 * (np.sum(p * (d - 1) ** 2) + np.sum(q * d ** 2))
    assert triangular_estimate(d_loss) == pytest.approx(np.sum((p - q) ** 2 / (p + q)))
    assert ls.estimate(0.25, 0.25) == pytest.approx(0.0)  # D = 1/2 everywhere: no difference seen
    bce = LOSSES["bce"]
    assert bce.estimate(math.log(2), math.log(2)) == pytest.approx(0.0)
    w = LOSSES["wasserstein"]
    assert w.estimate(-3.0, -1.0) == pytest.approx(3.0 - (-1.0))  # loss_real = -E f(x), loss_fake = E f(G z)


def test_the_output_activation_is_read_through_wrappers_such_as_spectral_norm():
    """A discriminator ending in SpectralNormalization(Dense(1, "sigmoid")) ends in a sigmoid (not in
    the ReLU before it), and one whose every layer is wrapped is still checked."""
    from gan_keras.errors import ConfigError
    from gan_keras.training.losses import LOSSES, check_output_activation, output_activation

    SN = keras.layers.SpectralNormalization
    sigmoid_d = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  SN(keras.layers.Dense(1, activation="sigmoid"))])
    assert output_activation(sigmoid_d) == "sigmoid"
    with pytest.raises(ConfigError, match="SNGAN: its discriminator ends in a sigmoid activation, but the "
                                          "least_squares loss needs linear"):
        check_output_activation(sigmoid_d, LOSSES["least_squares"], "SNGAN")
    wrapped = keras.Sequential([keras.Input((4,)), SN(keras.layers.Dense(8, activation="relu")),
                                SN(keras.layers.Dense(1))])
    assert output_activation(wrapped) == "linear"
    check_output_activation(wrapped, LOSSES["least_squares"], "SNGAN")


def test_lsgan_engine_trains_with_mse_and_logs_the_triangular_estimate():
    spec = get_model("LSGAN")
    e = build_engine(spec, spec.hyperparams(), MNIST)
    assert e.discriminator.layers[-1].activation.__name__ == "linear"
    rng = np.random.default_rng(0)
    calls, restore = record_calls(e)
    try:
        logs = e.train_iteration(fake_data(rng, 4), rng)
    finally:
        restore()
    assert set(logs) == {"d_loss", "g_loss", "divergence"}
    assert logs["divergence"] == pytest.approx(2.0 - 8.0 * logs["d_loss"], rel=1e-6)
    # D and the stacked model (G's loss, targets 1) both minimise the mean squared error:
    assert e.discriminator.loss == e.stacked.loss == "mean_squared_error"
    assert [who for who, _, _ in calls] == ["D", "D", "stacked"] and logs["g_loss"] >= 0


def test_one_sided_gradient_penalty_is_the_printed_equation():
    """Eq. 2-13 as printed: max(0, ||grad|| - 1), unsquared: 0 for a critic with gradient norm <= 1."""
    critic, w, (real, fake, eps) = linear_critic()
    norm = np.linalg.norm(w)
    assert norm > 1
    assert float(gradient_penalty(critic, real, fake, eps, "one-sided")) == pytest.approx(norm - 1.0, rel=1e-5)
    critic.layers[-1].kernel.assign(0.5 * w.reshape(-1, 1) / norm)  # norm 1/2: two-sided 0.25, one-sided 0
    assert float(gradient_penalty(critic, real, fake, eps, "one-sided")) == pytest.approx(0.0, abs=1e-6)
    assert float(gradient_penalty(critic, real, fake, eps, "two-sided")) == pytest.approx(0.25, rel=1e-5)


def test_an_undeclared_log_value_fails_loudly(tmp_path):
    from gan_keras.training.logspec import UndeclaredLogValue
    from gan_keras.training.runlog import LogWriter

    spec = get_model("DCGAN")
    e = build_engine(spec, spec.hyperparams(), MNIST)
    with pytest.raises(UndeclaredLogValue, match="k_t"):
        e.log_spec.check({"d_loss": 1.0, "k_t": 0.5})
    e.log_spec.check({name: 1.0 for name in e.log_spec.names})
    writer = LogWriter(str(tmp_path / "log.csv"), ["iteration", *e.log_spec.names, "seconds"])
    writer.open(keep_until=None)
    with pytest.raises(UndeclaredLogValue, match="k_t"):
        writer.write({"iteration": 1, "d_loss": 1.0, "k_t": 0.5})
    writer.close()


def test_train_step_models_must_return_what_they_declare():
    """The generic adapter refuses a train_step that returns a value its LOG does not declare, or
    leaves out one it declares (its tracker would log 0 every iteration)."""
    from gan_keras.training.logspec import MissingLogValue, UndeclaredLogValue
    from gan_keras.training.wgangp import WGANGP

    spec = get_model("WGANGP")
    e = build_engine(spec, spec.hyperparams(critic_steps=1), MNIST)
    with pytest.raises(UndeclaredLogValue, match="k_t"):
        e.model.record(d_loss=1.0, k_t=0.5)
    declared = {name: 1.0 for name in WGANGP.LOG.names}
    with pytest.raises(MissingLogValue, match=r"^log value\(s\) divergence declared but not returned"):
        e.model.record(**{k: v for k, v in declared.items() if k != "divergence"})
    assert float(e.model.record(**declared)["divergence"]) == 1.0
    assert isinstance(e.model, WGANGP) and e.log_spec is WGANGP.LOG


def test_a_train_step_variable_no_checkpoint_saves_is_refused():
    """A new train_step's own state (here an EMA) must be in extra_state_variables(), or a resumed
    run restarts it from its initial value; the engine names it when it is built. Overriding
    extra_state_variables() without super() drops the seed generator: named too."""
    import dataclasses

    from gan_keras.training.wgangp import WGANGP

    class WithEMA(WGANGP):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.ema = keras.Variable(0.0, trainable=False, name="gap_ema")

    class Saved(WithEMA):
        def extra_state_variables(self):
            return super().extra_state_variables() + [self.ema]

    class WithoutSuper(WithEMA):
        def extra_state_variables(self):
            return [self.ema]

    spec = get_model("WGANGP")
    hp = spec.hyperparams(critic_steps=1)
    with pytest.raises(TypeError, match=r"WithEMA has variables that no checkpoint saves.*gap_ema; return them"):
        build_engine(dataclasses.replace(spec, train_step=WithEMA), hp, MNIST)
    with pytest.raises(TypeError, match="seed_generator"):
        build_engine(dataclasses.replace(spec, train_step=WithoutSuper), hp, MNIST)
    engine = build_engine(dataclasses.replace(spec, train_step=Saved), hp, MNIST)
    assert any(v is engine.model.ema for v in engine.state_variables())


def test_event_flags_are_announced_and_marked_on_their_plots(tmp_path, monkeypatch):
    import matplotlib.axes

    from gan_keras.report.plots import plot_run
    from gan_keras.training.logspec import LogSpec, LogValue, Plot

    spec = LogSpec(values=(LogValue("k_t", "k", "k_t"), LogValue("collapse", "C", "collapse", alarm="k_t fell")),
                   plots=(Plot("k_t.png", "k_t", ("k_t",), "k", events=("collapse",)),))
    assert spec.alarms({"k_t": 0.1, "collapse": 1.0}) == ["k_t fell"] and spec.alarms({"collapse": 0.0}) == []
    (tmp_path / "log.csv").write_text("iteration,k_t,collapse,seconds\n1,0.1,0,1\n2,0.2,0,1\n3,0.05,1,1\n4,0.04,0,1\n")
    marked = []
    original = matplotlib.axes.Axes.axvline
    monkeypatch.setattr(matplotlib.axes.Axes, "axvline", lambda ax, x=0, *a, **k: marked.append(x) or original(ax, x, *a, **k))
    (path,) = plot_run(str(tmp_path), spec)
    assert path.endswith("k_t.png") and marked == [3.0]
    assert LogSpec.from_json(spec.to_json()) == spec


def test_the_eta_counts_hours_past_a_day():
    """time.strftime('%H:%M:%S') wrapped at 24 h (a 67.7-hour run showed 19:42:00)."""
    from gan_keras.training.loop import hms

    assert hms(5) == "0:00:05" and hms(3599.6) == "1:00:00"
    assert hms(67.7 * 3600) == "67:42:00" and hms(1e12) == "277777777:46:40"


def test_a_run_too_big_for_memory_names_what_to_make_smaller(monkeypatch):
    """Networks that cannot even be built (TensorFlow's ResourceExhaustedError while estimating)
    are a one-line refusal, not a traceback; an estimate over the available memory names its
    biggest part's remedy."""
    from types import SimpleNamespace

    from gan_keras.errors import ConfigError
    from gan_keras.training import run_setup

    spec = get_model("DCGAN")
    dataset = SimpleNamespace(image_shape=(28, 28, 1), images=np.zeros((10, 28, 28, 1), np.uint8))

    class ResourceExhaustedError(Exception):
        pass

    def cannot_build(*args, **kwargs):
        raise ResourceExhaustedError("OOM when allocating tensor with shape[100000000,512]")

    with monkeypatch.context() as m:
        m.setattr(run_setup, "estimate_memory", cannot_build)
        with pytest.raises(ConfigError, match=r"latent_dim 100000000\); use a smaller --latent-dim"):
            run_setup.check_memory(spec, spec.hyperparams(latent_dim=10**8), dataset, 4)
    monkeypatch.setattr(run_setup, "mem_available", lambda: 2**20)   # 1 MiB left
    monkeypatch.setattr(run_setup, "estimate_memory", lambda *a: {
        "dataset": 5 * 2**30, "weights_and_optimizer": 2**30, "activations": 2**30, "total": 7 * 2**30})
    with pytest.raises(ConfigError, match=r"needs about 7.00 GiB .* use fewer images \(--limit\)$"):
        run_setup.check_memory(spec, spec.hyperparams(), dataset, 4)


def test_reference_lines_stay_in_view_and_the_fid_figure_says_what_it_shows(tmp_path, monkeypatch):
    """A JSD estimate far below log 2 used to clip the log 2 line while its legend entry stayed;
    the evaluation's figure had no legend and plotted KID in other units than its table (x 10^3)."""
    import matplotlib.pyplot as plt

    from gan_keras.report import eval_plots, plots
    from gan_keras.training.losses import LOSSES
    from gan_keras.training.logspec import Plot

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig))
    monkeypatch.setattr(eval_plots, "_save", lambda fig, path: figures.append(fig) or path)
    rng = np.random.default_rng(0)
    log = {"iteration": np.arange(1, 201, dtype=float), "divergence": -0.4 + 0.05 * rng.standard_normal(200)}
    bce = LOSSES["bce"]
    plot = Plot("divergence.png", "divergence", ("divergence",), "divergence", hlines=bce.reference_lines)
    plots.plot_values(log, plot, {"divergence": "JSD"}, str(tmp_path / "d.png"), "t", checkpoints=[100, 200, 300])
    low, high = figures[-1].axes[0].get_ylim()
    assert low <= -0.45 and high >= math.log(2)   # log 2 and 0 are drawn, and inside the axes
    legend = [t.get_text() for t in figures[-1].axes[0].get_legend().get_texts()]
    assert legend[0] == "JSD (2-iteration mean)" and legend[-1] == "checkpoint"
    (ticks,) = figures[-1].axes[0].collections
    assert ticks.get_offsets()[:, 0].tolist() == [100, 200]   # the checkpoints within the log's iterations
    eval_plots.plot_fid([1000, 2000], [50.0, 40.0], str(tmp_path / "f.png"), "t", kid=[0.04, 0.03],
                        kid_std=[0.001, 0.001])
    ax = figures[-1].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["FID", "KID x 10³ (± std)"]
    assert figures[-1].axes[1].get_ylim()[1] > 30   # KID drawn as 40 and 30, not 0.04 and 0.03
    plt.close("all")
