import numpy as np
import torch

from policies.normalizer import RunningNormalizer


def test_normalizer_matches_numpy_mean_and_variance_on_streamed_data():
    rng = np.random.default_rng(0)
    chunks = [rng.normal(loc=[3.0, -200.0, 0.0], scale=[0.5, 40.0, 1e-3], size=(n, 3)) for n in (1, 7, 256, 3, 1000)]
    normalizer = RunningNormalizer(3)
    for chunk in chunks:
        normalizer.update(torch.tensor(chunk, dtype=torch.float32))
    everything = np.concatenate([c.astype(np.float32) for c in chunks]).astype(np.float64)
    np.testing.assert_allclose(normalizer.mean.numpy(), everything.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(normalizer.var.numpy(), everything.var(0), rtol=1e-9)
    assert int(normalizer.count) == len(everything)


def test_normalized_data_has_zero_mean_and_unit_variance():
    rng = np.random.default_rng(1)
    data = torch.tensor(rng.normal(5.0, 3.0, size=(4096, 2)), dtype=torch.float32)
    normalizer = RunningNormalizer(2)
    normalizer.update(data)
    out = normalizer(data)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(0, unbiased=False), torch.ones(2), atol=1e-4, rtol=0)


def test_normalizer_before_any_data_is_the_identity_and_clips_outliers():
    normalizer = RunningNormalizer(2, clip=5.0)
    x = torch.tensor([[0.5, -100.0]])
    torch.testing.assert_close(normalizer(x), torch.tensor([[0.5, -5.0]]))
