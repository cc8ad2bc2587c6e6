"""KID, improved precision/recall, Inception Score, nearest neighbours, real-feature cache."""
import numpy as np
import pytest

from gan_keras.data.base import ImageDataset
from gan_keras.metrics import real_stats
from gan_keras.metrics.fid import MetricError
from gan_keras.metrics.scores import (inception_score, kernel_inception_distance, knn_radii, mmd2_unbiased,
                                      precision_recall)
from gan_keras.metrics.similarity import nearest_neighbours, pixel_neighbours


# ------------------------------------------------------------------------------------------------
# KID
# ------------------------------------------------------------------------------------------------

def _mmd2_reference(x, y):
    """Plain-loop unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return sxx + syy - 2 * sxy


def test_mmd_matches_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(9, 5)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(_mmd2_reference(x, y), rel=1e-10)


def test_kid_identical_sets_near_zero_and_shifted_positive():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 32))
    mean, std = kernel_inception_distance(x, x, num_subsets=20, subset_size=100)
    assert abs(mean) < 3 * std + 1e-3
    # two independent samples of one distribution: ~0 too (the estimator is unbiased)
    y = rng.normal(size=(400, 32))
    mean_ind, std_ind = kernel_inception_distance(x, y, num_subsets=20, subset_size=100)
    assert abs(mean_ind) < 3 * std_ind + 1e-3
    shifted, _ = kernel_inception_distance(x, x + 1.0, num_subsets=20, subset_size=100)
    assert shifted > 10 * abs(mean) and shifted > 0.05


def test_kid_deterministic_and_subset_size_capped():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(50, 8)), rng.normal(size=(30, 8))
    a = kernel_inception_distance(x, y, seed=3, num_subsets=10)
    b = kernel_inception_distance(x, y, seed=3, num_subsets=10)
    assert a == b
    _, _, info = kernel_inception_distance(x, y, num_subsets=3, return_info=True)
    assert info["subset_size"] == 30


# ------------------------------------------------------------------------------------------------
# precision / recall
# ------------------------------------------------------------------------------------------------

def test_precision_recall_identical_sets_are_one():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 16))
    p, r = precision_recall(x, x.copy(), block=37)
    assert p == 1.0 and r == 1.0


def test_precision_recall_disjoint_and_subset():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(300, 8))
    far = rng.normal(size=(100, 8)) + 100.0
    p, r = precision_recall(real, far)
    assert p == 0.0 and r == 0.0
    # mode collapse: every generated sample next to one real sample: precise, recall ~1/N
    cluster = real[:1] + 1e-3 * rng.normal(size=(20, 8))
    p, r = precision_recall(real, cluster, k=3)
    assert p == 1.0 and r < 0.05


def test_knn_radii_match_brute_force():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(57, 6))
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    expected = np.sort(d, axis=1)[:, 3]  # index 0 is the point itself
    np.testing.assert_allclose(knn_radii(x, k=3, block=10), expected, rtol=1e-9, atol=1e-9)
    with pytest.raises(MetricError):
        knn_radii(x[:3], k=3)


# ------------------------------------------------------------------------------------------------
# Inception Score
# ------------------------------------------------------------------------------------------------

def test_inception_score_uniform_is_one():
    p = np.full((100, 1000), 1e-3)
    mean, std = inception_score(probabilities=p)
    assert mean == pytest.approx(1.0, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    mean, _ = inception_score(logits=np.zeros((50, 10)))
    assert mean == pytest.approx(1.0, abs=1e-9)


def test_inception_score_one_hot_distinct_is_number_of_classes():
    classes = 10
    p = np.tile(np.eye(classes), (20, 1))  # 200 images, each split of 20 holds every class twice
    mean, std = inception_score(probabilities=p, splits=10)
    assert mean == pytest.approx(classes, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    # all images the same class: confident but not diverse -> 1
    same = np.zeros((100, classes))
    same[:, 3] = 1
    assert inception_score(probabilities=same)[0] == pytest.approx(1.0, abs=1e-9)
    # logits: large one-hot logits behave as one-hot probabilities
    assert inception_score(logits=p * 50.0)[0] == pytest.approx(classes, rel=1e-6)


def test_inception_score_errors():
    with pytest.raises(MetricError):
        inception_score(probabilities=np.full((5, 3), 1 / 3))  # fewer images than splits
    with pytest.raises(ValueError):
        inception_score()


# ------------------------------------------------------------------------------------------------
# nearest neighbours
# ------------------------------------------------------------------------------------------------

def test_nearest_neighbours_brute_force_blocks():
    rng = np.random.default_rng(6)
    q, ref = rng.normal(size=(7, 12)), rng.normal(size=(103, 12))
    idx, dist = nearest_neighbours(q, ref, k=4, block=10)
    d = np.sqrt(((q[:, None] - ref[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(idx, np.argsort(d, axis=1)[:, :4])
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :4], rtol=1e-9)


def test_pixel_neighbours_find_copies():
    rng = np.random.default_rng(7)
    real = rng.integers(0, 256, size=(50, 6, 6, 1), dtype=np.uint8)
    gen = real[[5, 17, 42]].astype(np.float32) / 127.5 - 1.0
    idx, dist = pixel_neighbours(gen, real, k=2, block=16)
    np.testing.assert_array_equal(idx[:, 0], [5, 17, 42])
    np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-5)


# ------------------------------------------------------------------------------------------------
# real-image features and their cache
# ------------------------------------------------------------------------------------------------

class CountingBackbone:
    name = "fid"
    feature_dim = 4
    has_classifier = True
    resize = "bilinear"
    description = {"network": "counting fake", "weights": "fixed"}

    def __init__(self):
        self.calls = 0

    def features_and_logits(self, images, batch_size=50, progress=False):
        self.calls += 1
        x = np.asarray(images, np.float64).reshape(len(images), -1)
        f = np.stack([x.mean(1), x.std(1), x[:, 0], x[:, -1]], axis=1)
        p = np.exp(f[:, :3]) / np.exp(f[:, :3]).sum(1, keepdims=True)
        return f, p

    def features(self, images, batch_size=50, progress=False):
        return self.features_and_logits(images, batch_size)[0]


def test_select_indices_seeded_sorted_unique():
    a = real_stats.select_indices(1000, 100, seed=3)
    b = real_stats.select_indices(1000, 100, seed=3)
    c = real_stats.select_indices(1000, 100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(np.unique(a)) == 100 and np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(real_stats.select_indices(10, 100, 0), np.arange(10))


def test_real_features_cached_and_invalidated(tmp_path):
    rng = np.random.default_rng(8)
    images = rng.integers(0, 256, size=(60, 5, 5, 3), dtype=np.uint8)
    ds = ImageDataset("toy", images, info={"fingerprint": "toy-v1"})
    bb = CountingBackbone()
    first = real_stats.real_features(ds, bb, 40, seed=1, batch_size=16, cache_dir=str(tmp_path), progress=False)
    assert first.description["cache"] == "miss" and bb.calls > 0
    assert first.features.shape == (40, 4) and first.probabilities.shape == (40, 3)
    calls = bb.calls
    second = real_stats.real_features(ds, bb, 40, seed=1, batch_size=16, cache_dir=str(tmp_path), progress=False)
    assert second.description["cache"] == "hit" and bb.calls == calls
    np.testing.assert_allclose(second.features, first.features.astype(np.float32), rtol=0, atol=0)
    np.testing.assert_array_equal(second.indices, first.indices)
    # another seed, sample size or dataset content: recomputed
    real_stats.real_features(ds, bb, 40, seed=2, cache_dir=str(tmp_path), progress=False)
    assert bb.calls > calls
    calls = bb.calls
    ds2 = ImageDataset("toy", images, info={"fingerprint": "toy-v2"})
    assert real_stats.real_features(ds2, bb, 40, seed=1, cache_dir=str(tmp_path),
                                    progress=False).description["cache"] == "miss"
    assert bb.calls > calls
    # a damaged cache file is recomputed, with a warning
    path = first.description["cache_file"]
    with open(path, "wb") as f:
        f.write(b"garbage")
    with pytest.warns(UserWarning, match="damaged"):
        again = real_stats.real_features(ds, bb, 40, seed=1, cache_dir=str(tmp_path), progress=False)
    assert again.description["cache"] == "miss"


def test_random_weights_never_cached(tmp_path):
    bb = CountingBackbone()
    bb.name = "keras"
    bb.description = {"network": "random", "weights": None}
    ds = ImageDataset("toy", np.zeros((10, 4, 4, 1), np.uint8))
    r = real_stats.real_features(ds, bb, 5, cache_dir=str(tmp_path), progress=False)
    assert r.description["cache"] == "off" and not list(tmp_path.iterdir())


def test_kid_gram_and_subset_routes_agree():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(80, 16)), rng.normal(size=(70, 16)) + 0.2
    a = kernel_inception_distance(x, y, num_subsets=7, subset_size=30, seed=1)
    b = kernel_inception_distance(x, y, num_subsets=7, subset_size=30, seed=1, max_gram_bytes=0)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


# -- edge cases a mutation audit found untested ---------------------------------------------------
def test_inception_score_takes_each_splits_own_marginal_and_its_bounds():
    # two splits of five: [0, 1, 0] and [1, 2] (bounds i * n // splits); exp(KL) 2 and 3; std ddof 0
    assert inception_score(probabilities=np.eye(3)[[0, 1, 0, 1, 2]], splits=2) == pytest.approx((2.5, 0.5))
    # each split holds one class: its own marginal is that class, so IS 1 (a marginal over all: 2)
    one_class_each = np.eye(2)[[0] * 10 + [1] * 10]
    assert inception_score(probabilities=one_class_each, splits=2) == pytest.approx((1.0, 0.0))


def test_kid_subsets_draw_without_replacement_and_fit_the_smaller_set():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 8)), rng.normal(size=(30, 8))
    # subsets as large as the sets: each is a permutation of all of it, so every value is the full MMD
    mean, std = kernel_inception_distance(x, y, num_subsets=5, subset_size=30)
    assert mean == pytest.approx(mmd2_unbiased(y, x), rel=1e-9) and std < 1e-12
    info = kernel_inception_distance(x[:20], rng.normal(size=(50, 8)), return_info=True)[2]
    assert info["subset_size"] == 20


def test_precision_recall_counts_a_sample_on_a_radius_as_inside():
    assert precision_recall(np.zeros((4, 2)), np.zeros((4, 2))) == (1.0, 1.0)


def test_a_frechet_distance_with_a_large_imaginary_part_is_an_error():
    from gan_keras.metrics.fid import frechet_distance

    with pytest.raises(MetricError):   # a "covariance" with a negative eigenvalue: sqrtm is complex
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -4.0]), method="scipy")
