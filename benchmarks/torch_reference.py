"""An independent PyTorch implementation of the dissertation's four models, for timing only.

Issue 15 asks that this project be faster than "an independent implementation of the same layers
and schedule in another framework" on the same machine. This file is such an implementation,
written from the published tables (Figures 4-1, 4-4, 4-7, 4-18, 4-21, 4-24, 4-27), not from our
Keras code: plain ``torch.nn`` layers, the default NCHW layout (``--channels-last`` tries the
other one), the literal UpSampling -> Conv2d pair, and the dissertation's iteration:

* GAN, DCGAN, WGAN (the stacked schedule, section 3.4.3): ``critic_steps`` times {G(z) in
  inference mode; one D update on a real batch; one on the fake batch; WGAN: clip D's weights to
  [-0.01, 0.01] after each}; then one G update through D, whose weights are frozen and whose
  BatchNorm normalises with the batch's statistics without updating its moving ones (Keras 2.2).
* WGAN-GP: 5 critic updates, each on E[D(G(z))] - E[D(x)] + 10 * GP on per-image interpolates
  (double backward), then one G update.

Same optimizers as the project (Adam 2e-4/0.5 for GAN and DCGAN, RMSprop 5e-5 for WGAN, Adam
1e-4/0.5/0.9 for WGAN-GP; Keras' epsilons, BatchNorm momentum 0.8 = torch 0.2, eps 1e-3,
Dropout 0.25 after every discriminator convolution), the same batch sizes (128 at 28x28, 64 at
64x64), random uint8 images resident in memory, a random batch drawn per update. The parameter
counts are checked against the published ones before anything is timed, so a wrong layer fails
loudly instead of timing the wrong network.

Run in an environment that has torch (it is not a project dependency: ``pip install torch==2.13.0
numpy`` in a separate venv); ``benchmarks/versus_torch.py`` runs it beside our engines. Alone:
``python benchmarks/torch_reference.py --model DCGAN --size 28`` prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

torch = F = nn = None   # imported by load_torch() once the arguments are parsed: --help works without torch

MARK = "TORCH_REFERENCE_RESULT "
SETTINGS = {28: ((1, 28, 28), 128), 64: ((3, 64, 64), 64)}
LATENT = 100
# (generator, discriminator) total parameters as published (REFERENCE.md; the builders' docstrings).
PUBLISHED = {
    ("GAN", 28): (1_493_520, 533_505), ("GAN", 64): (7_143_424, 7_080_449),
    ("DCGAN", 28): (856_193, 393_729), ("DCGAN", 64): (19_072_387, 4_318_337),
    ("WGAN", 28): (7_276_993, 5_336_961), ("WGAN", 64): (18_876_163, 4_318_337),
    ("WGANGP", 28): (7_276_993, 5_336_961), ("WGANGP", 64): (19_072_387, 4_314_753),
}


# -- layers ------------------------------------------------------------------------------------

def bn(channels, dims=2):
    """Keras BatchNormalization(momentum=0.8): torch's momentum is 1 - Keras', eps 1e-3."""
    return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(channels, eps=1e-3, momentum=0.2)


def lrelu():
    return nn.LeakyReLU(0.2)


def down(cin, cout, k, stride=2, padding=None, norm=True, pad_to_even=False):
    """Conv [-> ZeroPad (0,1)] [-> BN] -> LeakyReLU -> Dropout(0.25)."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2 if padding is None else padding)]
    if pad_to_even:
        layers.append(nn.ZeroPad2d((0, 1, 0, 1)))
    if norm:
        layers.append(bn(cout))
    return layers + [lrelu(), nn.Dropout(0.25)]


def up(cin, cout, k):
    """Nearest x2 upsampling -> Conv 'same' -> BN -> ReLU."""
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, k, padding=k // 2), bn(cout), nn.ReLU()]


def view(*shape):
    return nn.Unflatten(1, shape)


# -- the published networks --------------------------------------------------------------------

def networks(model, size):
    if model == "GAN" and size == 28:      # Figure 4-1
        g = nn.Sequential(nn.Linear(LATENT, 256), lrelu(), bn(256, 1), nn.Linear(256, 512), lrelu(), bn(512, 1),
                          nn.Linear(512, 1024), lrelu(), bn(1024, 1), nn.Linear(1024, 784), nn.Tanh(),
                          view(1, 28, 28))
        d = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), lrelu(), nn.Linear(512, 256), lrelu(),
                          nn.Linear(256, 1), nn.Sigmoid())
    elif model == "GAN":                   # Figure 4-18
        g = nn.Sequential(nn.Linear(LATENT, 512), lrelu(), *[m for _ in range(3) for m in (nn.Linear(512, 512), lrelu())],
                          nn.Linear(512, 12288), nn.Tanh(), view(3, 64, 64))
        d = nn.Sequential(nn.Flatten(), nn.Linear(12288, 512), lrelu(),
                          *[m for _ in range(3) for m in (nn.Linear(512, 512), lrelu())], nn.Linear(512, 1), nn.Sigmoid())
    elif model == "DCGAN" and size == 28:  # Figure 4-4
        g = nn.Sequential(nn.Linear(LATENT, 7 * 7 * 128), nn.ReLU(), view(128, 7, 7), *up(128, 128, 3), *up(128, 64, 3),
                          nn.Conv2d(64, 1, 3, padding=1), nn.Tanh())
        d = nn.Sequential(*down(1, 32, 3, norm=False), *down(32, 64, 3, pad_to_even=True), *down(64, 128, 3),
                          *down(128, 256, 3, stride=1), nn.Flatten(), nn.Linear(4096, 1), nn.Sigmoid())
    elif model in ("WGAN", "WGANGP") and size == 28:   # Figure 4-7 (WGAN-GP: section 4.1.4)
        g = nn.Sequential(nn.Linear(LATENT, 1024), lrelu(), nn.Linear(1024, 7 * 7 * 128), bn(7 * 7 * 128, 1), lrelu(),
                          view(128, 7, 7),
                          nn.ConvTranspose2d(128, 128, 5, 2, 2, output_padding=1), bn(128), lrelu(),
                          nn.Conv2d(128, 64, 5, padding=2), bn(64), lrelu(),
                          nn.ConvTranspose2d(64, 64, 5, 2, 2, output_padding=1), bn(64), lrelu(),
                          nn.Conv2d(64, 1, 5, padding=2), nn.Tanh())
        d = nn.Sequential(*down(1, 64, 5, stride=1, norm=False), *down(64, 128, 5, padding=0, norm=False),
                          *down(128, 128, 5, norm=False), nn.Flatten(), nn.Linear(128 * 6 * 6, 1024), lrelu(),
                          nn.Linear(1024, 1))
    else:                                  # 64x64: Figures 4-21, 4-24, 4-27
        if model == "WGAN":
            g = nn.Sequential(nn.Linear(LATENT, 4 * 4 * 1024), view(1024, 4, 4), bn(1024), nn.ReLU(),
                              *up(1024, 512, 5), *up(512, 256, 5), *up(256, 128, 5), nn.Upsample(scale_factor=2),
                              nn.Conv2d(128, 3, 5, padding=2), nn.Tanh())
        else:
            g = nn.Sequential(nn.Linear(LATENT, 4 * 4 * 1024), nn.ReLU(), view(1024, 4, 4), *up(1024, 512, 5),
                              *up(512, 256, 5), *up(256, 128, 5), *up(128, 64, 5), nn.Conv2d(64, 3, 5, padding=2),
                              nn.Tanh())
        norm = model != "WGANGP"
        head = [nn.Sigmoid()] if model == "DCGAN" else []
        d = nn.Sequential(*down(3, 64, 5, norm=False), *down(64, 128, 5, norm=norm), *down(128, 256, 5, norm=norm),
                          *down(256, 512, 5, norm=norm), nn.Flatten(), nn.Linear(8192, 1), *head)
    return g, d


def parameter_count(net):
    """Trainable parameters plus BatchNorm's moving mean and variance, as Keras counts them."""
    moving = sum(m.running_mean.numel() + m.running_var.numel() for m in net.modules()
                 if isinstance(m, nn.modules.batchnorm._BatchNorm))
    return sum(p.numel() for p in net.parameters()) + moving


# -- one iteration -----------------------------------------------------------------------------

class FrozenD:
    """D inside the G update: weights frozen, BatchNorm on batch statistics, moving ones untouched."""

    def __init__(self, d):
        self.d, self.norms = d, [m for m in d.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def __enter__(self):
        self.d.requires_grad_(False)
        for m in self.norms:
            m.momentum = 0.0

    def __exit__(self, *exc):
        self.d.requires_grad_(True)
        for m in self.norms:
            m.momentum = 0.2


class Trainer:
    def __init__(self, model, size, channels_last=False):
        self.model = model
        self.shape, self.batch = SETTINGS[size]
        self.g, self.d = networks(model, size)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.g, self.d = self.g.to(memory_format=torch.channels_last), self.d.to(memory_format=torch.channels_last)
        if model == "WGAN":
            self.critic_steps, opt = 5, lambda p: torch.optim.RMSprop(p, lr=5e-5, alpha=0.9, eps=1e-7)
        elif model == "WGANGP":
            self.critic_steps, opt = 5, lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.5, 0.9), eps=1e-7)
        else:
            self.critic_steps, opt = 1, lambda p: torch.optim.Adam(p, lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
        self.g_opt, self.d_opt = opt(self.g.parameters()), opt(self.d.parameters())
        n = max(512, 2 * self.batch * self.critic_steps)
        images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, *self.shape), dtype=np.uint8))
        self.images = (images.float() / 127.5 - 1.0).contiguous(memory_format=self.memory_format)
        self.frozen = FrozenD(self.d)

    def real(self):
        return self.images[torch.randint(0, len(self.images), (self.batch,))]

    def z(self):
        return torch.randn(self.batch, LATENT)

    def d_update(self, images, target):
        self.d_opt.zero_grad(set_to_none=True)
        out = self.d(images)
        if self.model == "WGAN":   # Keras-GAN's wasserstein loss, mean(y_true * y_pred), labels -1 real / 1 fake
            loss = (out * target).mean()
        else:
            loss = F.binary_cross_entropy(out, torch.full_like(out, target))
        loss.backward()
        self.d_opt.step()
        if self.model == "WGAN":
            with torch.no_grad():
                for p in self.d.parameters():
                    p.clamp_(-0.01, 0.01)
        return loss

    def gp_update(self):
        real = self.real()
        with torch.no_grad():
            fake = self.g(self.z())
        eps = torch.rand(self.batch, 1, 1, 1)
        self.d_opt.zero_grad(set_to_none=True)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grads, = torch.autograd.grad(self.d(x_hat).sum(), x_hat, create_graph=True)
        gp = ((grads.flatten(1).square().sum(1) + 1e-12).sqrt() - 1).square().mean()
        loss = self.d(fake).mean() - self.d(real).mean() + 10.0 * gp
        loss.backward()
        self.d_opt.step()
        return loss

    def iteration(self):
        self.g.train()
        self.d.train()
        for _ in range(self.critic_steps):
            if self.model == "WGANGP":
                d_loss = self.gp_update()
                continue
            self.g.eval()                         # generator.predict: inference mode, no gradients
            with torch.no_grad():
                fake = self.g(self.z())
            self.g.train()
            real_target, fake_target = (-1.0, 1.0) if self.model == "WGAN" else (1.0, 0.0)
            d_loss = self.d_update(self.real(), real_target) + self.d_update(fake, fake_target)
        self.g_opt.zero_grad(set_to_none=True)
        with self.frozen:
            out = self.d(self.g(self.z()))
            if self.model in ("WGAN", "WGANGP"):
                g_loss = -out.mean()
            else:
                g_loss = F.binary_cross_entropy(out, torch.ones_like(out))
            g_loss.backward()
        self.g_opt.step()
        return float(d_loss.detach()), float(g_loss.detach())


def load_torch():
    """Import torch (torch, torch.nn.functional as F, torch.nn as nn) into this module."""
    global torch, F, nn
    try:
        import torch
        import torch.nn.functional as F
        from torch import nn
    except ImportError as exc:
        sys.exit(f"torch is not installed for {sys.executable} ({exc}): it is not a project dependency; "
                 "see this file's docstring for its own environment")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=["GAN", "DCGAN", "WGAN", "WGANGP"])
    p.add_argument("--size", type=int, required=True, choices=sorted(SETTINGS))
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--channels-last", action="store_true", help="NHWC memory layout (oneDNN's preferred one)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args(argv)
    load_torch()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    trainer = Trainer(a.model, a.size, a.channels_last)
    counts = (parameter_count(trainer.g), parameter_count(trainer.d))
    if counts != PUBLISHED[(a.model, a.size)]:
        sys.exit(f"{a.model}-{a.size}: parameters {counts}, published {PUBLISHED[(a.model, a.size)]}")

    def timed():
        t = time.perf_counter()
        losses = trainer.iteration()
        return time.perf_counter() - t, losses

    warmup = [timed()[0] for _ in range(a.warmup)]
    results = [timed() for _ in range(a.iterations)]
    print(MARK + json.dumps({
        "times": [t for t, _ in results], "warmup_times": warmup, "batch": trainer.batch,
        "critic_steps": trainer.critic_steps, "parameters": counts,
        "finite": all(np.isfinite(v) for _, losses in results for v in losses),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "channels_last": a.channels_last,
        "mkldnn": torch.backends.mkldnn.is_available(), "python": platform.python_version(),
    }), flush=True)


if __name__ == "__main__":
    main()
