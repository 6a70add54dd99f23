"""Class-conditional GAN: each family of the procedural data is a style the engine can steer.

The recipe, for small data and small compute: a style-conditioned mapping network
(StyleGAN2-ADA's conditioning), a projection discriminator (Miyato & Koyama 2018)
with FastGAN's self-supervised reconstruction head (Liu et al. 2021), DiffAugment
on everything the discriminator sees (Zhao et al. 2020), lazy R1 and an EMA
generator (Karras et al. 2020). A larger teacher at 512² can be distilled into the
CPU-sized student (models/cgan/distil.py).
"""
