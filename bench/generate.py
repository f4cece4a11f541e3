"""Post-generator throughput on CPU: PGGAN images/s and GPT-2 captions/s with the shipped demo bundles.

    python bench/generate.py [--images 256] [--captions 64] [--threads 1]

Both models are loaded and warmed up first; load times are printed but not counted. The last line is
`images_per_s=<x> captions_per_s=<y>`.
"""
from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description="PGGAN + GPT-2 generation speed on CPU")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--captions", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8, help="captions per write() call")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import tensorflow as tf
    import torch

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    torch.set_num_threads(args.threads)
    from generator.pggan import load_gan
    from generator.textgen import load_writer

    started = time.perf_counter()
    gan = load_gan()
    gan.generate(16, seed=0)
    print(f"gan version={gan.version} resolution={gan.resolution} load_s={time.perf_counter() - started:.2f}")
    started = time.perf_counter()
    writer = load_writer()
    writer.write(2, seed=0)
    print(f"writer version={writer.version} load_s={time.perf_counter() - started:.2f}")

    started = time.perf_counter()
    images = gan.generate(args.images, seed=1)
    image_s = time.perf_counter() - started
    started = time.perf_counter()
    captions: list[str] = []
    seed = 1
    while len(captions) < args.captions:
        captions += writer.write(min(args.batch, args.captions - len(captions)), seed=seed, topic=gan.domain)
        seed += 1
    caption_s = time.perf_counter() - started
    print(f"images={len(images)} seconds={image_s:.2f} threads={args.threads}")
    print(f"captions={len(captions)} seconds={caption_s:.2f} batch={args.batch} threads={args.threads}")
    print(f"example caption: {captions[0]!r}")
    print(f"images_per_s={len(images) / image_s:.1f} captions_per_s={len(captions) / caption_s:.1f}")


if __name__ == "__main__":
    main()
