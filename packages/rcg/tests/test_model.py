"""The RDM, its diffusion and EMA, the representation encoder and the pixel generator, checked against the
paper's numbers and the properties their code must have."""

import math

import pytest
import torch

from vis.core.models.diffusion import EMA, GaussianDiffusion, adm_linear_betas, ldm_linear_betas
from vis.rcg.generator import PixelGenerator
from vis.rcg.rdm import RDM, SimpleMLP
from vis.rcg.unet import UNet


def test_rdm_has_the_papers_62_721_280_parameters():
    with torch.device("meta"):
        net = SimpleMLP(rep_dim=256, width=1536, depth=12)
    assert sum(p.numel() for p in net.parameters()) == 62_721_280
    # 256 -> 1536, 12 blocks of (LN, 1536 x 1536, 256 -> 1536, LN, 1536 x 1536), time MLP 1536 -> 256 -> 256
    block = 2 * 1536 * 2 + 2 * (1536 * 1536 + 1536) + 256 * 1536 + 1536
    assert sum(p.numel() for p in net.res_blocks[0].parameters()) == block


def test_rdm_outputs_start_at_zero_and_its_blocks_start_as_identities():
    net = SimpleMLP(rep_dim=16, width=32, depth=2)
    x, t = torch.randn(4, 16), torch.randint(0, 1000, (4,))
    assert torch.equal(net(x, t), torch.zeros(4, 16))
    h, emb = torch.randn(4, 32), torch.randn(4, 256)
    assert torch.equal(net.res_blocks[0](h, emb), h)


def test_ldm_linear_schedule_values():
    betas = ldm_linear_betas()
    assert len(betas) == 1000
    assert betas[0].item() == pytest.approx(0.0015, rel=1e-12)
    assert betas[-1].item() == pytest.approx(0.0195, rel=1e-12)
    mid = ((math.sqrt(0.0015) + math.sqrt(0.0195)) / 2) ** 2  # the square of the midpoint of sqrt(beta)
    assert ((betas[499] + betas[500]) / 2).item() == pytest.approx(mid, rel=1e-3)
    assert betas[499].item() != pytest.approx((0.0015 + 0.0195) / 2, rel=1e-2)  # not linear in beta
    abar = GaussianDiffusion(betas).alphas_cumprod
    assert abar[0].item() == pytest.approx(1 - 0.0015)
    assert abar[-1].item() == pytest.approx(torch.prod(1 - betas).item())
    assert torch.all(abar[1:] < abar[:-1])
    assert adm_linear_betas()[0].item() == pytest.approx(1e-4) and adm_linear_betas()[-1].item() == pytest.approx(0.02)


def test_rdm_learns_the_clean_vector_not_the_noise():
    rdm = RDM(rep_dim=8, width=16, depth=1)
    d = rdm.diffusion
    x0, noise, t = torch.randn(5, 8), torch.randn(5, 8), torch.randint(0, 1000, (5,))
    x_t = d.q_sample(x0, t, noise)
    a = d.alphas_cumprod[t].float()[:, None]
    assert torch.allclose(x_t, a.sqrt() * x0 + (1 - a).sqrt() * noise)
    oracle = lambda x, tt: x0  # predicts the clean vector: zero loss only under x0 prediction
    assert d.loss(oracle, x0, t, noise).item() == 0
    assert d.loss(lambda x, tt: noise, x0, t, noise).item() > 0.5
    # the sampler's x0 -> eps conversion recovers the noise
    pred_x0, eps = d.x0_and_eps(x0, x_t, a)
    assert torch.allclose(eps, noise, atol=1e-4)


def test_ddim_with_eta_0_is_deterministic_and_eta_1_is_not():
    rdm = RDM(rep_dim=8, width=16, depth=1)
    for p in rdm.ema.module.out.parameters():
        torch.nn.init.normal_(p, std=0.1)  # a non-trivial network
    x_T = torch.randn(3, 8)
    a = rdm.diffusion.ddim_sample(rdm.ema.module, (3, 8), 25, 0.0, torch.Generator().manual_seed(1), x_T=x_T)
    b = rdm.diffusion.ddim_sample(rdm.ema.module, (3, 8), 25, 0.0, torch.Generator().manual_seed(2), x_T=x_T)
    assert torch.equal(a, b)
    c = rdm.diffusion.ddim_sample(rdm.ema.module, (3, 8), 25, 1.0, torch.Generator().manual_seed(1), x_T=x_T)
    d = rdm.diffusion.ddim_sample(rdm.ema.module, (3, 8), 25, 1.0, torch.Generator().manual_seed(2), x_T=x_T)
    assert not torch.allclose(c, d)
    # a network that always predicts the same clean vector: DDIM with eta 0 ends on it, up to the noise
    # level sqrt(1 - abar_0) = 0.039 of LDM's last step (t = 1 in DDIM's shifted steps)
    target = torch.randn(3, 8)
    out = rdm.diffusion.ddim_sample(lambda x, t: target, (3, 8), 50, 0.0, x_T=x_T)
    assert (out - target).abs().max() < 0.2
    assert (out - target).abs().max() < (x_T - target).abs().max() / 5


def test_ddim_steps_are_ldms_uniform_steps():
    d = GaussianDiffusion(ldm_linear_betas())
    assert d.ddim_timesteps(250).tolist() == list(range(1, 1000, 4))
    assert d.ddim_timesteps(50)[:3].tolist() == [1, 21, 41]


def test_per_sample_draws_do_not_depend_on_the_batch():
    rdm = RDM(rep_dim=4, width=8, depth=1)
    gens = lambda idx: [torch.Generator().manual_seed(100 + i) for i in idx]
    whole = rdm.sample(4, 10, 1.0, gens(range(4)))
    halves = torch.cat([rdm.sample(2, 10, 1.0, gens(range(2))), rdm.sample(2, 10, 1.0, gens(range(2, 4)))])
    assert torch.allclose(whole, halves, atol=1e-6)


def test_ema_follows_litemas_warm_up():
    net = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    ema = EMA(net, decay=0.9999)
    net.weight.data.fill_(1.0)
    ema.update(net)  # first update: decay (1 + 1) / (10 + 1)
    assert ema.module.weight.item() == pytest.approx(1 - 2 / 11)
    for _ in range(5):
        ema.update(net)
    assert int(ema.num_updates) == 6
    assert ema.current_decay() == pytest.approx(8 / 17)
    ema.train()
    assert not ema.module.training and not any(p.requires_grad for p in ema.parameters())


def test_rdm_checkpoint_holds_the_ema_weights():
    rdm = RDM(rep_dim=4, width=8, depth=1)
    keys = rdm.state_dict().keys()
    assert "ema.num_updates" in keys and "ema.module.input_proj.weight" in keys and "net.input_proj.weight" in keys


def test_unet_conditioning_starts_at_zero_and_then_matters():
    unet = UNet(8, rep_dim=6, channels=32, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(4,),
                head_channels=32)
    for m in unet.modules():  # the zero-initialised output layers, opened up
        if isinstance(m, torch.nn.Conv2d | torch.nn.Conv1d):
            torch.nn.init.normal_(m.weight, std=0.05)
    x, t = torch.randn(2, 3, 8, 8), torch.tensor([10, 500])
    r1, r2 = torch.randn(2, 6), torch.randn(2, 6)
    assert torch.equal(unet(x, t, r1), unet(x, t, r2))  # zero-init Linear(rep -> emb)
    torch.nn.init.normal_(unet.rep_embed.weight)
    assert not torch.allclose(unet(x, t, r1), unet(x, t, r2))
    assert unet(x, t, r1).shape == x.shape


def test_guidance_zero_is_the_conditional_model_and_fake_latent_is_the_unconditional_one():
    gen = PixelGenerator(8, rep_dim=6, channels=32, channel_mult=(1, 2), num_res_blocks=1,
                         attention_resolutions=(4,), head_channels=32)
    for m in gen.ema.module.modules():
        if isinstance(m, torch.nn.Conv2d | torch.nn.Conv1d | torch.nn.Linear):
            torch.nn.init.normal_(m.weight, std=0.05)
    reps = torch.randn(2, 6)
    g = lambda: [torch.Generator().manual_seed(i) for i in range(2)]
    plain = gen.sample(reps, 5, 0.0, 0.0, g())
    assert plain.shape == (2, 3, 8, 8) and plain.min() >= 0 and plain.max() <= 1
    assert not torch.equal(plain, gen.sample(reps, 5, 0.0, 3.0, g()))
    fake = gen.ema.module.fake_latent.expand(2, 6)
    assert torch.allclose(gen.sample(fake, 5, 0.0, 3.0, g()), gen.sample(fake, 5, 0.0, 0.0, g()), atol=1e-4)


def test_dropped_representations_train_the_fake_latent():
    gen = PixelGenerator(8, rep_dim=6, channels=32, channel_mult=(1,), num_res_blocks=1, attention_resolutions=())
    torch.nn.init.normal_(gen.unet.rep_embed.weight)
    for m in gen.unet.modules():  # open the zero-initialised outputs, else nothing reaches the embedding
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.05)
    images, reps, t, noise = torch.rand(4, 3, 8, 8), torch.randn(4, 6), torch.full((4,), 300), torch.randn(4, 3, 8, 8)
    gen(images, reps, t, noise, torch.zeros(4, dtype=torch.bool))["loss"].backward()
    assert gen.fake_latent.grad is None or gen.fake_latent.grad.abs().sum() == 0
    gen.zero_grad()
    gen(images, reps, t, noise, torch.tensor([True, False, False, False]))["loss"].backward()
    assert gen.fake_latent.grad.abs().sum() > 0
