"""FID: the Frechet distance, its matrix square root, and the folder-to-folder command."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_keras.metrics import fid as fidmod
from gan_keras.metrics.fid import (MetricError, fid_from_features, frechet_distance, statistics,
                                   trace_sqrt_product)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _random_orthogonal(d, rng):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _closed_form(mu1, a, mu2, b):
    """FID between N(mu1, U diag(a) U^T) and N(mu2, U diag(b) U^T) (commuting covariances)."""
    return float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())


def test_statistics_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 7)).astype(np.float32)
    mu, sigma = statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(0))
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(sigma, sigma.T)


def test_self_fid_is_zero():
    rng = np.random.default_rng(1)
    for n, d in [(300, 64), (40, 128), (2, 16)]:  # full rank, rank-deficient, minimal
        x = rng.normal(size=(n, d)) * rng.uniform(0.1, 5, size=d) + rng.normal(size=d)
        assert abs(fid_from_features(x, x)) < 1e-8 * d
        mu, s = statistics(x)
        assert abs(frechet_distance(mu, s, mu, s)) < 1e-8 * d


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(2)
    d = 32
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 4, size=d), rng.uniform(0.1, 4, size=d)
    expected = _closed_form(mu1, a, mu2, b)
    for method in ("eigh", "scipy"):
        got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b), method=method)
        assert got == pytest.approx(expected, rel=1e-10)


def test_rotated_gaussians_closed_form_and_symmetry():
    rng = np.random.default_rng(3)
    d = 64
    u = _random_orthogonal(d, rng)
    a, b = rng.uniform(0.01, 9, size=d), rng.uniform(0.01, 9, size=d)
    s1, s2 = (u * a) @ u.T, (u * b) @ u.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = _closed_form(mu1, a, mu2, b)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-10)


def test_rank_deficient_closed_form_at_least_as_good_as_pytorch_fid():
    """Singular covariances (rank 100 and 150 of 256): exact, and no worse than scipy's sqrtm."""
    rng = np.random.default_rng(4)
    d = 256
    u = _random_orthogonal(d, rng)
    a = np.zeros(d)
    b = np.zeros(d)
    a[:100] = rng.uniform(0, 3, 100)
    b[50:200] = rng.uniform(0, 3, 150)
    s1, s2 = (u * a) @ u.T, (u * b) @ u.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = _closed_form(mu1, a, mu2, b)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(expected, rel=1e-9)
    theirs = frechet_distance(mu1, s1, mu2, s2, method="scipy")
    assert abs(ours - expected) <= abs(theirs - expected) + 1e-9 * expected


def test_fewer_samples_than_dimensions_stable():
    """N < D (the usual case below 2048 images): all routes agree, self-FID is exactly ~0."""
    rng = np.random.default_rng(5)
    d = 300
    x = rng.normal(size=(120, d))
    y = rng.normal(size=(80, d)) * 1.3 + 0.1
    z = rng.normal(size=(400, d))
    for f1, f2 in [(x, y), (y, x), (x, z), (z, x), (z, z[::-1])]:
        a = fid_from_features(f1, f2)
        mu1, s1 = statistics(f1)
        mu2, s2 = statistics(f2)
        b = frechet_distance(mu1, s1, mu2, s2)
        assert np.isfinite(a) and a >= 0
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_matches_pytorch_fid_route_on_full_rank_data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(500, 40))
    y = rng.normal(size=(400, 40)) @ rng.normal(size=(40, 40)) * 0.3 + 0.5
    assert fid_from_features(x, y) == pytest.approx(fid_from_features(x, y, method="scipy"), rel=1e-8)


@pytest.mark.parametrize("n1,n2", [(30, 10), (10, 30), (3000, 10)])
def test_the_terms_are_reported_in_the_callers_order(n1, n2):
    """The small-set route swaps the sets internally (the distance is symmetric); the reported
    trace terms must still be the first set's and the second set's."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(n1, 2048 if n1 > 2048 else 20)) * 3.0
    y = rng.normal(size=(n2, x.shape[1]))
    value, info = fid_from_features(x, y, return_info=True)
    assert info["trace_sigma1"] == pytest.approx(np.trace(np.cov(x, rowvar=False)), rel=1e-9)
    assert info["trace_sigma2"] == pytest.approx(np.trace(np.cov(y, rowvar=False)), rel=1e-9)
    assert value == pytest.approx(fid_from_features(y, x), rel=1e-9)


def test_near_singular_product_no_imaginary_or_nan():
    """Nearly collinear features: scipy's sqrtm may go complex; ours stays real and finite."""
    rng = np.random.default_rng(8)
    base = rng.normal(size=(60, 3))
    x = base @ rng.normal(size=(3, 50)) + 1e-7 * rng.normal(size=(60, 50))
    y = base[::-1] @ rng.normal(size=(3, 50)) + 1e-7 * rng.normal(size=(60, 50))
    value, info = fid_from_features(x, y, return_info=True)
    assert np.isfinite(value) and value >= 0
    mu1, s1 = statistics(x)
    mu2, s2 = statistics(y)
    tr, diag = trace_sqrt_product(s1, s2)
    assert np.isfinite(tr) and diag["rank_product"] <= 50
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(value, rel=1e-6)


def test_errors():
    with pytest.raises(MetricError):
        statistics(np.zeros((1, 4)))
    with pytest.raises(MetricError):
        fid_from_features(np.full((3, 4), np.nan), np.zeros((3, 4)))
    with pytest.raises(MetricError):
        fid_from_features(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(MetricError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# ------------------------------------------------------------------------------------------------
# folder command, with a tiny fake backbone
# ------------------------------------------------------------------------------------------------

class FakeBackbone:
    """Mean colour + a few fixed projections of a 4x4 downsample: 8-d features, deterministic."""

    name = "fake"
    feature_dim = 8
    has_classifier = False
    resize = "bilinear"
    description = {"network": "fake"}

    def __init__(self):
        self.seen = []

    def features(self, images, batch_size=50, progress=False):
        images = np.asarray(images, np.float32)
        self.seen.append(images.copy())
        n, h, w, c = images.shape
        assert c == 3 and images.min() >= -1.0 and images.max() <= 1.0
        small = images[:, :: max(1, h // 4), :: max(1, w // 4), :].reshape(n, -1)[:, :12]
        proj = np.random.default_rng(0).normal(size=(small.shape[1], 5))
        return np.concatenate([images.mean(axis=(1, 2)), small @ proj], axis=1).astype(np.float64)


def _write_images(folder, n, size=(20, 16), mode="RGB", seed=0, ext="png"):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
        arr = rng.integers(0, 256, size=shape, dtype=np.uint8)
        Image.fromarray(arr, mode=None).convert(mode).save(os.path.join(folder, f"img_{i:03d}.{ext}"))


@pytest.fixture
def fake_backbone(monkeypatch):
    from gan_keras.metrics import backbones

    fake = FakeBackbone()
    monkeypatch.setattr(backbones, "get_backbone", lambda name, **kw: fake)
    return fake


def test_folder_fid_prints_value(tmp_path, fake_backbone, capsys):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    _write_images(a, 12, seed=1)
    _write_images(b, 9, seed=2, mode="L", size=(10, 10), ext="jpg")  # grayscale, other size
    _write_images(b, 3, seed=3, size=(30, 12), ext="PNG")            # mixed sizes, upper-case extension
    with open(os.path.join(b, "notes.txt"), "w") as f:
        f.write("not an image")
    assert fidmod.main([a, b, "--batch-size", "5", "--quiet"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("FID: ")
    value = float(out.split()[1])
    assert value > 0 and len(out.split()[1].split(".")[1]) >= 4
    # pytorch-fid reading: PIL convert("RGB"), x / 127.5 - 1
    first = fake_backbone.seen[0][0]
    expected = np.asarray(Image.open(os.path.join(a, "img_000.png")).convert("RGB"), np.float32) / 127.5 - 1
    np.testing.assert_allclose(first, expected, atol=1e-6)
    assert sum(len(x) for x in fake_backbone.seen) == 24
    # same folder twice: 0
    assert fidmod.main([a, a, "--quiet"]) == 0
    assert float(capsys.readouterr().out.split()[1]) == pytest.approx(0.0, abs=1e-6)


def test_folder_fid_npz_stats(tmp_path, fake_backbone, capsys):
    a = str(tmp_path / "a")
    _write_images(a, 10, seed=4)
    feats, _ = fidmod.folder_features(a, FakeBackbone(), progress=False)
    mu, sigma = statistics(feats)
    np.savez(tmp_path / "a.npz", mu=mu, sigma=sigma)
    assert fidmod.main([a, str(tmp_path / "a.npz"), "--quiet"]) == 0
    assert float(capsys.readouterr().out.split()[1]) == pytest.approx(0.0, abs=1e-6)


def test_folder_fid_errors(tmp_path, fake_backbone, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    a = str(tmp_path / "a")
    _write_images(a, 3)
    assert fidmod.main([a, str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no images in") and "\n" not in err
    assert fidmod.main([a, str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.png").write_bytes(b"not a png")
    assert fidmod.main([a, str(broken), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no readable images" in err and "Traceback" not in err


def test_the_method_flag_chooses_the_square_root_the_command_computes(tmp_path, monkeypatch, capsys):
    """--method scipy is there to reproduce pytorch-fid's number (its scipy sqrtm) for comparison,
    so it must reach the computation. Nearly orthogonal rank-1 covariances: the product's square
    root is ill-conditioned, and scipy's (pytorch-fid's) is off in the 6th digit with scipy 1.17, or
    fails with its imaginary-component error, depending on the round-off of the scipy version."""
    from scipy import linalg

    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    w = np.array([1e-6, 1.0])
    sigma_a, sigma_b = rotation @ np.diag([1.0, 0.0]) @ rotation.T, rotation @ np.outer(w, w) @ rotation.T
    a, b = str(tmp_path / "a.npz"), str(tmp_path / "b.npz")
    np.savez(a, mu=np.zeros(2), sigma=sigma_a)
    np.savez(b, mu=np.zeros(2), sigma=sigma_b)
    sqrtm_calls, sqrtm = [], linalg.sqrtm

    def counted_sqrtm(matrix, *args, **kwargs):
        sqrtm_calls.append(1)
        return sqrtm(matrix, *args, **kwargs)

    monkeypatch.setattr(linalg, "sqrtm", counted_sqrtm)

    reported = {}
    for method in ("eigh", "scipy"):
        try:
            expected = (0, f"FID: {frechet_distance(np.zeros(2), sigma_a, np.zeros(2), sigma_b, method=method):.6f}")
        except MetricError as exc:
            expected = (2, f"error: {exc}")
        capsys.readouterr()
        sqrtm_calls.clear()
        code = fidmod.main([a, b, "--quiet", "--method", method])
        out = capsys.readouterr()
        reported[method] = (code, (out.out + out.err).strip())
        assert reported[method] == expected, method
        assert len(sqrtm_calls) == (method == "scipy"), method   # pytorch-fid's sqrtm only when asked for
    assert reported["eigh"] == (0, "FID: 1.999998")   # exact: 1 + (1 + 1e-12) - 2e-6
    # the default is eigh
    assert fidmod.main([a, b, "--quiet"]) == 0 and capsys.readouterr().out.strip() == reported["eigh"][1]


def test_folder_cli_subprocess_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "gan_keras.metrics.fid", str(empty), str(empty)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no images in")


def test_folder_fid_with_real_fid_network(tmp_path, fid_weights_path, capsys):
    """End to end with the 2015 FID Inception (skipped where its weights are absent)."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    _write_images(a, 4, size=(32, 32), seed=10)
    _write_images(b, 4, size=(32, 32), seed=11)
    assert fidmod.main([a, b, "--inception", "fid", "--inception-weights", fid_weights_path, "--quiet"]) == 0
    value = float(capsys.readouterr().out.split()[1])
    assert np.isfinite(value) and value >= 0
