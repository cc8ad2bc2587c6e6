"""benchmarks/flops.py, the FLOP counter of train_speed.py (no engine is timed here)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import keras  # noqa: E402
from keras import layers  # noqa: E402

import train_speed  # noqa: E402  (its FLOP counter lives in benchmarks/flops.py)


def tiny_pair():
    """G: z(3) -> Dense(128) -> 8x8x2; D: 8x8x2 -> Conv2D(4, 3x3, same) -> Flatten -> Dense(1)."""
    g = keras.Sequential([keras.Input((3,)), layers.Dense(128), layers.Reshape((8, 8, 2))])
    d = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"), layers.LeakyReLU(0.2),
                          layers.Flatten(), layers.Dense(1)])
    return g, d


def test_layer_flops_by_hand():
    g, d = tiny_pair()
    assert train_speed.network_flops(g)["forward"] == 2 * 3 * 128
    net = train_speed.network_flops(d)
    conv = 2 * (8 * 8) * (3 * 3 * 2) * 4        # output pixels x kernel x in-channels x filters
    dense = 2 * (8 * 8 * 4) * 1
    assert [x["type"] for x in net["layers"]] == ["Conv2D", "Dense"]   # LeakyReLU, Flatten not counted
    assert (net["forward"], net["first"]) == (conv + dense, conv)

    t = keras.Sequential([keras.Input((4, 4, 2)), layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
                          layers.Reshape((16, 16)), layers.Dense(5)])
    # transposed: input pixels x kernel x in x out; Dense on a 3-D input: once per row
    assert train_speed.network_flops(t)["forward"] == 2 * (16 * 9 * 2 * 4) + 2 * (16 * 16 * 5)


def test_iteration_flops_by_hand():
    g, d = tiny_pair()
    gf, gf1 = 768, 768                        # G forward per image, its first layer's
    df, df1 = 9216 + 512, 9216                # D forward per image, its first layer's
    critic = gf + 2 * (df + (2 * df - df1))   # G inference + D fwd/bwd on real and fake (no first input grad)
    g_update = gf + df + df + (2 * gf - gf1)  # G fwd, D fwd, frozen D's input grads, G bwd
    assert train_speed.iteration_flops((g, d), batch=2) == 2 * (critic + g_update) == 123392
    penalty = df + 2 * (2 * df)               # WGAN-GP: D fwd on interpolates + 2 full D backwards
    got = train_speed.iteration_flops((g, d), batch=2, critic_steps=2, kind="wgangp", detail=True)
    assert got["total"] == 2 * (2 * (critic + penalty) + g_update) == 399360
    assert got["gradient_penalty"] == 2 * penalty
    with pytest.raises(ValueError):
        train_speed.iteration_flops((g, d), 2, kind="began")


@pytest.mark.parametrize("size,batch,issue", [(28, 128, 107e9), (64, 64, 1.8e12)])
def test_dcgan_flops_match_the_issue(size, batch, issue):
    """The issue counts ~107 GFLOP per DCGAN-28 iteration (batch 128) and ~1.8 TFLOP per DCGAN-64
    iteration (batch 64); this convention gives 103.75 GFLOP and 1893.5 GFLOP: within 10 %."""
    from gan_keras.registry import get_model

    spec = get_model("DCGAN")
    shape = train_speed.SETTINGS[size][0]
    pair = (spec.build_generator(shape), spec.build_discriminator(shape))
    flops = train_speed.iteration_flops(pair, batch, 1, train_speed.flop_kind(spec))
    print(f"DCGAN-{size} batch {batch}: {flops / 1e9:.2f} GFLOP per iteration (issue: {issue / 1e9:.0f})")
    assert 1 / 1.1 < flops / issue < 1.1


def test_flop_kind():
    from gan_keras.registry import get_model

    assert [train_speed.flop_kind(get_model(m)) for m in ("DCGAN", "WGAN", "WGANGP", "BEGAN", "EDGEGAN")] == \
        ["stacked", "stacked", "wgangp", "stacked", "stacked"]


def test_an_interrupted_benchmark_writes_what_it_measured(tmp_path, monkeypatch):
    """`timeout -s INT` (benchmarks/gpu_jax_session.sh) stops the rounds: the configurations measured
    by then are written, and the report says the rest were cut short (a GPU session lost its
    WGAN-GP figures to a traceback before this)."""
    calls = []

    def fake_child(cfg, timeout):
        calls.append(cfg["what"])
        if cfg["what"] == "peak":
            return {"error": "no peak in this test"}
        if len(calls) == 3:
            raise KeyboardInterrupt
        return {"times": [0.5, 0.7, 0.6], "warmup_times": [9.0], "build_s": 1.0, "finite": True,
                "flops": {"total": 3e9, "executed": 2e9}, "real_batches": 1, "critic_steps": 1,
                "peak_rss_mib": 100.0}

    monkeypatch.setattr(train_speed, "run_child", fake_child)
    out = tmp_path / "speed.md"
    train_speed.main(["--models", "DCGAN", "--sizes", "28", "--engines", "stacked", "--determinism", "off",
                      "--jit", "off", "--precision", "off", "bf16", "--inception-images", "0", "--repeats", "1",
                      "--out", str(out)])
    assert calls == ["peak", "train", "train"]
    report = out.read_text()
    assert "interrupted (SIGINT) after 1 of 2 configuration runs" in report
    assert "| 0.6 (0.5-0.7) |" in report                     # the measured configuration's median and range
    import json
    written = json.loads(out.with_suffix(".json").read_text())
    assert written["info"]["interrupted"].startswith("interrupted (SIGINT) after 1 of 2")
    assert [("seconds" in r) for r in written["rows"]] == [True, False]


def test_hparam_settings_are_rows_of_their_own_with_a_speedup_table(tmp_path, monkeypatch):
    """--hparams critic_call=separate,joint: one row per setting, paired with itself in the
    precision table, and the second setting's speed-up over the first."""
    seen = []

    def fake_child(cfg, timeout):
        if cfg["what"] == "peak":
            return {"error": "no peak in this test"}
        if cfg["what"] == "hparams":
            return train_speed.child_hparams(cfg)   # the real check, in this process
        seen.append((cfg["model"], cfg["precision"], cfg["hparams"]))
        t = (0.2 if cfg["hparams"].get("critic_call") == "joint" else 0.4) / (2 if cfg["precision"] == "bf16" else 1)
        return {"times": [t], "warmup_times": [9.0], "build_s": 1.0, "finite": True,
                "flops": {"total": 3e9, "executed": 2e9}, "real_batches": 5, "critic_steps": 5, "peak_rss_mib": 100.0}

    monkeypatch.setattr(train_speed, "run_child", fake_child)
    out = tmp_path / "speed.md"
    train_speed.main(["--models", "WGANGP", "DCGAN", "--sizes", "64", "--engines", "compiled", "--determinism", "off",
                      "--jit", "off", "--precision", "bf16", "off", "--hparams", "critic-call=separate,joint",
                      "--inception-images", "0", "--repeats", "1", "--out", str(out)])
    joint, separate = {"critic_call": "joint"}, {"critic_call": "separate"}
    assert seen == [("WGANGP", "bf16", separate), ("WGANGP", "bf16", joint), ("WGANGP", "off", separate),
                    ("WGANGP", "off", joint), ("DCGAN", "bf16", {}), ("DCGAN", "off", {})]   # DCGAN: once, as it is
    report = out.read_text()
    assert "| WGANGP-64 compiled det=off xla=off mp=bf16 critic_call=joint | WGANGP-64 compiled det=off xla=off " \
           "mp=bf16 critic_call=separate | 0.2000 | 0.1000 | 2.00 |" in report
    assert "| WGANGP critic_call=joint | 64 | compiled | off | off | bf16 | 0.2000 | 0.1000 | 2.00 |" in report
    assert "| WGANGP critic_call=joint | 64 | off | off | >= 85 % | n/a % | n/a | n/a % |" in report   # the targets


@pytest.mark.parametrize("setting,message", [
    (["critic_call=separate,sideways"], r"critic_call=sideways: .*\(WGANGP\)"),
    (["critic_cal=joint"], "critic_cal: none of WGANGP, DCGAN has this hyperparameter"),
    (["critic_call=joint", "critic_call=separate"], "each hyperparameter once"),
    (["engine=compiled"], "engine has its own switch here, --engines"),
])
def test_bad_hparams_are_refused_before_anything_is_timed(setting, message, monkeypatch, capsys):
    timed = []
    monkeypatch.setattr(train_speed, "run_child", lambda cfg, timeout: train_speed.child_hparams(cfg)
                        if cfg["what"] == "hparams" else timed.append(cfg))
    with pytest.raises(SystemExit) as exc:
        train_speed.main(["--models", "WGANGP", "DCGAN", "--hparams", *setting, "--out", "/nonexistent/x.md"])
    assert exc.value.code == 2 and timed == []
    import re
    assert re.search(message, capsys.readouterr().err)


def test_hparam_values_are_stripped_and_each_timed_once():
    assert train_speed.hparam_setting("critic-call= joint,joint,separate,") == ("critic_call", ["joint", "separate"])


def test_an_hparam_setting_the_model_lacks_is_not_available_and_a_bad_one_is_refused():
    result = train_speed.child_train({"model": "DCGAN", "size": 28, "batch": 4, "engine": "compiled",
                                      "determinism": False, "jit": False, "hparams": {"critic_call": "joint"}})
    assert result["unavailable"] == "DCGAN has no hyperparameter critic_call"
    result = train_speed.child_train({"model": "WGANGP", "size": 28, "batch": 4, "engine": "compiled",
                                      "determinism": False, "jit": False, "hparams": {"critic_call": "both"}})
    assert result["unavailable"].startswith("critic_call=both: ")
    with pytest.raises(SystemExit):
        train_speed.main(["--hparams", "critic_call"])
