"""Hyperparameters are declared once; checks, per-model ownership and the generated flags follow."""
import dataclasses

import numpy as np
import pytest

from gan_keras.errors import ConfigError
from gan_keras.hparams import COMMON, HParam
from gan_keras.registry import MODELS, get_model, hyperparameter_table


def test_each_kind_checks_its_values():
    cases = {
        HParam("n", 1, "", "positive_int"): ([1, 7, 3.0], [0, -1, 2.5, True, "3"]),
        HParam("x", 1.0, "", "positive_float"): ([1e-9, 3], [0, -1.0, float("inf"), float("nan"), "x"]),
        HParam("c", None, "", "optional_positive_float"): ([None, 0.01], [0.0, -0.5]),
        HParam("b", 0.5, "", "fraction"): ([0.0, 0.999], [1.0, -0.1]),
        HParam("u", 0.0, "", "unit_interval"): ([0.0, 1.0, 0.5], [1.0001, -0.1, float("nan")]),
        HParam("k", "a", "", "choice", ("a", "b")): (["a", "b"], ["c", 1]),
        HParam("f", False, "", "flag"): ([True, False], [1, "yes"]),
    }
    for param, (good, bad) in cases.items():
        for value in good:
            param.check(value)
        for value in bad:
            with pytest.raises(ConfigError, match=f"--{param.name} "):
                param.check(value)
    assert HParam("n", 1, "", "positive_int").parse("12") == 12
    assert HParam("u", 0.0, "", "unit_interval").parse("1") == 1.0   # BEGAN's --k-0 1
    with pytest.raises(ValueError, match="must be a positive integer, got 'x'"):
        HParam("n", 1, "", "positive_int").parse("x")


def test_a_model_gets_the_shared_its_engines_and_its_own_hyperparameters():
    assert set(get_model("DCGAN").hyperparams().to_dict()) == \
        {p.name for p in COMMON} | {"critic_steps", "clip_value", "clip_all_weights", "frozen_bn"}
    assert set(get_model("WGANGP").hyperparams().to_dict()) == \
        {p.name for p in COMMON} | {"critic_steps", "gp_weight", "gp_form", "critic_call"}
    with pytest.raises(ConfigError, match="--critic-steps does not apply to BEGAN"):
        get_model("BEGAN").hyperparams(critic_steps=5)
    hp = get_model("WGAN").hyperparams()
    assert (hp.optimizer, hp.d_lr, hp.critic_steps, hp.clip_value) == ("rmsprop", 5e-5, 5, 0.01)  # its differences
    with pytest.raises(ConfigError, match=r"--gp-weight does not apply to WGAN \(its flags: --lr, --latent-dim, "):
        hp.replace(gp_weight=1.0)   # --lr (both learning rates) is one of its flags too
    with pytest.raises(AttributeError):
        hp.d_lr = 1.0


def test_one_declaration_per_name_across_models(monkeypatch):
    table = hyperparameter_table()
    assert table["gp_weight"][1] == {"WGANGP": 10.0}
    assert set(table["clip_value"][1]) == {n for n, spec in MODELS.items() if spec.training_form == "stacked"}   # its engine's
    assert {"GAN", "DCGAN", "WGAN", "LSGAN", "MLPGAN", "DELIGAN"} <= set(table["clip_value"][1])
    twin = HParam("gp_weight", 10.0, "another declaration", "positive_float")
    with pytest.raises(ValueError, match=r"gp_weight is declared twice \(both read by WGANGP\): .* lists the existing "
                                         r"declaration \(an entry of gan_keras.training.wgangp.WGANGP.PARAMS\)"):
        dataclasses.replace(get_model("WGANGP"), params=(twin,)).declared_params()
    # another model's own critic_steps: the error names the shared declaration to list instead
    mine = HParam("critic_steps", 5, "critic updates", "positive_int")
    monkeypatch.setitem(MODELS, "MYGAN", dataclasses.replace(get_model("BEGAN"), params=(mine,)))
    with pytest.raises(ValueError, match=r"critic_steps is declared twice \(by GAN, .*WGANGP.* and by MYGAN\): .* "
                                         r"declaration \(gan_keras.hparams.CRITIC_STEPS\) in its PARAMS"):
        hyperparameter_table()


def test_an_alias_that_every_specific_flag_overrides_says_so(capsys):
    from gan_keras.cli.train import build_parser, hyperparam_overrides

    parser = build_parser()
    both = parser.parse_args(["DCGAN", "mnist", "1", "1", "1", "1", "--lr", "0.1", "--d-lr", "0.2", "--g-lr", "0.3"])
    assert hyperparam_overrides(both) == {"d_lr": 0.2, "g_lr": 0.3}
    assert capsys.readouterr().out == "warning: --lr 0.1 is not used: --d-lr and --g-lr set every value it sets\n"
    one = parser.parse_args(["DCGAN", "mnist", "1", "1", "1", "1", "--lr", "0.1", "--g-lr", "0.3"])
    assert hyperparam_overrides(one) == {"d_lr": 0.1, "g_lr": 0.3}
    assert capsys.readouterr().out == ""


def test_a_new_declaration_becomes_a_checked_flag(monkeypatch):
    from gan_keras.cli.train import build_parser, hyperparam_overrides

    toy = HParam("toy_weight", 1.0, "a toy weight", "positive_float")
    spec = dataclasses.replace(get_model("DCGAN"), name="TOY", params=(toy,))
    monkeypatch.setitem(MODELS, "TOY", spec)
    parser = build_parser()
    args = parser.parse_args(["TOY", "shapes", "1", "1", "1", "1", "--toy-weight", "2.5", "--lr", "0.1"])
    assert hyperparam_overrides(args) == {"toy_weight": 2.5, "d_lr": 0.1, "g_lr": 0.1}
    assert "used by TOY" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["TOY", "shapes", "1", "1", "1", "1", "--toy-weight", "-2"])
    with pytest.raises(ConfigError, match="--toy-weight does not apply to DCGAN"):
        get_model("DCGAN").hyperparams(toy_weight=2.0)


def test_a_uniform_latent_covers_minus_one_to_one():
    from gan_keras.hparams import draw_latent

    z = draw_latent(np.random.default_rng(0), (10000,), "uniform")
    assert z.min() < -0.99 and z.max() > 0.99 and abs(float(z.mean())) < 0.05 and np.abs(z).max() <= 1.0


def test_rmsprop_gets_the_runs_epsilon_and_the_python_api_checks_values():
    from gan_keras.hparams import make_optimizer

    assert make_optimizer(get_model("WGAN").hyperparams(optimizer_epsilon=1e-8), "d").epsilon == 1e-8
    with pytest.raises(ConfigError, match="--d-lr"):
        get_model("DCGAN").hyperparams(d_lr=-1.0)
