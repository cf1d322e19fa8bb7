"""OCR of scanned documents: character error rate and PHI redaction recall after OCR.

    .venv/bin/python bench/ocr.py [--documents 24] [--patients 12] [--seed 3] [--dpi 200 300]
                                  [--skew 1.5] [--noise 12] [--speckle 0.002]

Documents: the texts of a ``hopia synth`` corpus (every document type in turn), rendered as
A4 pages (11-point DejaVu Sans, else Pillow's built-in font) at each ``--dpi`` in turn, then
degraded like a scanner: rotated by a random angle within ``±--skew`` degrees, Gaussian grey
noise of standard deviation ``--noise``, ``--speckle`` of the pixels flipped to black or white,
a light blur; saved as a multi-page TIFF and read by Hopia's image reader (Tesseract, French).

Measured per document:
- CER: edit distance between the synthetic text and the OCR text over the reference length,
  blanks collapsed (``hopia.data.ingest.ocr.character_error_rate``);
- PHI redaction recall after OCR: the gold PHI spans are projected onto the OCR text through
  the alignment of the two texts, and the project's pseudonymiser (rules, gazetteers, the
  statistical model, the patient's registry identity, as in ingest) runs on the OCR text; the
  score is the project's (``hopia.data.pseudo.evaluate``: share of gold PHI characters covered
  by a predicted span), beside the same pseudonymiser on the clean text. Gold spans that the
  OCR lost entirely (nothing left to redact) are counted apart.
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

SECRET = b"bench-ocr-secret-0123456789abcdef"
_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
_A4 = (8.27, 11.69)  # inches
_MARGIN = 0.8  # inches


def _font(size: int) -> tuple[ImageFont.FreeTypeFont, str]:
    for path in _FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size), Path(path).stem
    return ImageFont.load_default(size=size), "Pillow (Aileron)"


def render(text: str, dpi: int) -> tuple[list[Image.Image], str]:
    """Clean A4 pages of ``text``, 11 points, lines wrapped to the text width."""
    size = round(11 / 72 * dpi)
    font, name = _font(size)
    width, height = round(_A4[0] * dpi), round(_A4[1] * dpi)
    margin, step = round(_MARGIN * dpi), round(size * 1.45)
    usable = width - 2 * margin
    lines: list[str] = []
    for raw in text.split("\n"):
        words, current = raw.split(" "), ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and font.getlength(candidate) > usable:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    per_page = (height - 2 * margin) // step
    pages = []
    for start in range(0, len(lines), per_page):
        page = Image.new("L", (width, height), color=255)
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines[start : start + per_page]):
            draw.text((margin, margin + i * step), line, fill=0, font=font)
        pages.append(page)
    return pages, name


def degrade(page: Image.Image, rng: random.Random, skew: float, noise: float, speckle: float):
    """What a scanner and a fax add: a tilt, grey noise, speckles, a slight blur."""
    import numpy as np

    angle = rng.uniform(-skew, skew)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(radius=0.6))
    pixels = np.asarray(page, dtype=np.float32)
    gen = np.random.default_rng(rng.randrange(2**32))
    pixels = pixels + gen.normal(0.0, noise, pixels.shape)
    flips = gen.random(pixels.shape)
    pixels[flips < speckle / 2] = 0
    pixels[flips > 1 - speckle / 2] = 255
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L"), angle


def project(spans, reference: str, ocr_text: str):  # noqa: ANN001, ANN201
    """Gold spans of ``reference`` carried onto ``ocr_text`` through their alignment; spans
    the OCR dropped entirely come back apart."""
    from hopia.data.pseudo.evaluate import GoldSpan

    matcher = difflib.SequenceMatcher(None, reference, ocr_text, autojunk=False)
    where = [0] * (len(reference) + 1)  # reference offset -> OCR offset
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(i1, i2):
            if tag == "equal":
                where[k] = j1 + (k - i1)
            elif tag == "replace":
                where[k] = j1 + (k - i1) * (j2 - j1) // (i2 - i1)
            else:  # delete: the character is gone; it sits where the OCR text resumes
                where[k] = j1
    where[len(reference)] = len(ocr_text)
    kept, lost = [], 0
    for s in spans:
        start, end = where[s.start], where[s.end - 1] + 1 if s.end > s.start else where[s.start]
        if end <= start or not ocr_text[start:end].strip():
            lost += 1
            continue
        kept.append(GoldSpan(start, min(end, len(ocr_text)), s.label))
    return tuple(kept), lost


@dataclass
class Result:
    doc_id: str
    dpi: int
    pages: int
    cer: float
    confidence: float
    seconds: float
    lost: int


def _pick(docs, types: dict[str, str], n: int):  # noqa: ANN001, ANN202
    """``n`` documents, the document types in turn."""
    by_type: dict[str, list] = {}
    for d in docs:
        by_type.setdefault(types[d.id], []).append(d)
    order, out = sorted(by_type), []
    while len(out) < n and any(by_type.values()):
        for t in order:
            if by_type[t] and len(out) < n:
                out.append(by_type[t].pop(0))
    return out


def main() -> None:
    from hopia.data.ingest import ocr
    from hopia.data.ingest.image import ImageReader
    from hopia.data.ingest.ocr import character_error_rate
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo.evaluate import evaluate, load_gold, pseudonymiser_predict
    from hopia.data.synth import generate, write_corpus
    from hopia.platform.exceptions import SourceError

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--documents", type=int, default=24)
    ap.add_argument("--patients", type=int, default=12)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--skew", type=float, default=1.5, help="largest tilt, degrees")
    ap.add_argument("--noise", type=float, default=12.0, help="grey noise std (0-255)")
    ap.add_argument("--speckle", type=float, default=0.002, help="share of flipped pixels")
    ap.add_argument("--timeout", type=float, default=600.0, help="longest OCR of a page, s")
    args = ap.parse_args()
    ocr.configure(ocr.OcrOptions(timeout_s=args.timeout))

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="hopia-ocr-") as tmp:
        corpus = generate(n_patients=args.patients, seed=args.seed)
        write_corpus(corpus, Path(tmp) / "corpus")
        types = {d.id: d.type for d in corpus.documents}
        gold = _pick(load_gold(Path(tmp) / "corpus"), types, args.documents)
        reader = ImageReader()
        results: list[Result] = []
        scanned = []
        failed: list[str] = []
        font = ""
        for n, doc in enumerate(gold):
            dpi = args.dpi[n % len(args.dpi)]
            pages, font = render(doc.text, dpi)
            noisy = [degrade(p, rng, args.skew, args.noise, args.speckle)[0] for p in pages]
            path = Path(tmp) / f"{doc.id}.tif"
            noisy[0].save(
                path, format="TIFF", save_all=True, append_images=noisy[1:], dpi=(dpi, dpi)
            )
            started = time.perf_counter()
            try:
                [read] = list(reader.read(path))
            except SourceError as exc:  # what ingest would record as an error row
                failed.append(f"{doc.id}: {exc.reason}")
                print(f"  {doc.id}: {exc.reason}", file=sys.stderr)
                continue
            seconds = time.perf_counter() - started
            spans, lost = project(doc.spans, doc.text, read.text)
            scanned.append(replace(doc, text=read.text, spans=spans))
            results.append(
                Result(
                    doc.id,
                    dpi,
                    len(pages),
                    character_error_rate(doc.text, read.text),
                    read.ocr_confidence or 0.0,
                    seconds,
                    lost,
                )
            )
            print(
                f"  {doc.id} ({types[doc.id]}, {dpi} dpi, {len(pages)} p.): "
                f"CER {results[-1].cer:.3f}, confiance {results[-1].confidence:.1f}, "
                f"{seconds:.1f} s",
                file=sys.stderr,
            )
        pseudonymiser = Pseudonymiser(SECRET, use_model=True)
        predict = pseudonymiser_predict(pseudonymiser)
        read_ids = {d.id for d in scanned}
        clean = evaluate(predict, [d for d in gold if d.id in read_ids])
        after = evaluate(predict, scanned)

    def quantiles(values: list[float]) -> str:
        q = (
            statistics.quantiles(values, n=10, method="inclusive")
            if len(values) > 1
            else values * 9
        )
        return (
            f"median {statistics.median(values):.4f}, p10 {q[0]:.4f}, p90 {q[-1]:.4f}, "
            f"min {min(values):.4f}, max {max(values):.4f}"
        )

    pages = sum(r.pages for r in results)
    print(f"Documents: {len(results)} ({pages} pages), font {font}, seed {args.seed}")
    print(f"Degradation: skew ±{args.skew}°, noise σ {args.noise}, speckle {args.speckle}")
    print(f"Documents the OCR could not read (error rows in ingest): {len(failed)}")
    for line in failed:
        print(f"  {line}")
    for dpi in args.dpi:
        cers = [r.cer for r in results if r.dpi == dpi]
        if cers:
            print(f"CER at {dpi} dpi ({len(cers)} docs): {quantiles(cers)}")
    print(f"CER all: {quantiles([r.cer for r in results])}")
    print(f"OCR confidence (mean per document): {quantiles([r.confidence for r in results])}")
    print(f"OCR seconds per page: {sum(r.seconds for r in results) / pages:.2f}")
    gold_spans = sum(len(d.spans) for d in gold if d.id in read_ids)
    lost = sum(r.lost for r in results)
    print(f"Gold PHI spans: {gold_spans}, lost by the OCR (nothing left to redact): {lost}")
    for name, rep in (("clean text", clean), ("after OCR", after)):
        print(
            f"Redaction {name}: recall {rep.redaction_recall:.4f}, precision "
            f"{rep.redaction_precision:.4f}, fully redacted docs {rep.fully_redacted:.4f}"
        )


if __name__ == "__main__":
    main()
