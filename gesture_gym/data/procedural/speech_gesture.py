"""The procedural speech-gesture corpus: synthetic speech with co-speech upper-body gestures.

It stands in for BEAT2 where that is not available, so it carries the structure that learned
rewards, tokenizers and metrics pick up in real data:

- Speech: phrases of words from a Zipf-weighted pseudo-English lexicon (function, content and
  semantic words), each word with a fixed phonology (vowels, onset consonants) so it always
  sounds alike. A Klatt-style cascade formant synthesiser voices each syllable: a Rosenberg-type
  glottal pulse train follows a pitch contour (declination over each phrase, a pitch accent on
  every stressed syllable, a final fall or question rise), three vowel formants shape it, and
  fricative or plosive noise bursts mark consonant onsets. Stressed syllables are louder and
  longer, phrases differ in loudness, pauses separate them.
- Speakers: eight (six seen in train/val/test, two held out for "unseen"), each with a voice
  (f0, accent range, formant scale, speaking rate) and a gesture style (amplitude, handedness,
  stroke sharpness, tempo, rest posture).
- Gestures: beats, loops of the hand whose stroke apex (the loop's lowest point, where the hand
  stops) falls on each stressed syllable, sized by the loudness of the speech they span; the
  hands rise into gesture space as a phrase starts, hold through short pauses and go back to
  rest in long ones; semantic gestures on their words (pointing, size, negation with a head
  shake, and rarely raising, a traced circle, counting, hands to the heart), with preparation,
  stroke, hold and retraction; nods on stresses and a slow torso sway.

Times: a syllable's time (``syllable_times``, ``stress_times``, ``beats``) is its vowel onset,
where its loudness rises. Motion frame f is at f / fps seconds.

Smoothness: every movement is eased so that its velocity is zero at its key poses; no joint
moves more than ``MAX_STEP`` = 0.15 m between consecutive frames (3 m/s at 20 fps).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import butter, sosfilt

from gesture_gym.data.clip import Word
from gesture_gym.data.procedural.base import GeneratedClip, clip_rng
from gesture_gym.motion.rotations import axis_rotation
from gesture_gym.motion.skeleton import UPPER_BODY

FPS = 20
SAMPLE_RATE = 16000
HOP = SAMPLE_RATE // FPS  # audio samples per motion frame
CLIP_SECONDS = 10.0
N_FRAMES = int(CLIP_SECONDS * FPS)
N_SAMPLES = N_FRAMES * HOP
MAX_STEP = 0.15  # metres a joint may move between frames
PEAK = 10 ** (-3 / 20)  # -3 dBFS


# ----------------------------------------------------------------------------- speakers


@dataclass(frozen=True)
class Speaker:
    """A voice and a gesture style."""

    name: str
    female: bool
    f0: float  # Hz at mid-phrase
    accent: float  # semitones a pitch accent adds
    rate: float  # syllables per second
    amplitude: float  # beat size (1 = loops of about 25 cm at nominal loudness)
    handedness: str  # "left", "right" or "both"
    sharpness: float  # beat-loop time warp: > 1 rises slowly and strokes fast into the apex
    tempo: float  # > 1 = quicker preparations and retractions
    rest_elbow: float  # radians of elbow flexion at rest (0 = arms hanging straight)
    home_flex: float  # radians the upper arms are raised forward in gesture space

    @property
    def style(self) -> dict[str, float]:
        """The numbers of the style and voice (annotations["style"])."""
        return {
            "amplitude": self.amplitude,
            "sharpness": self.sharpness,
            "tempo": self.tempo,
            "rest_elbow": self.rest_elbow,
            "home_flex": self.home_flex,
            "f0": self.f0,
            "accent": self.accent,
            "rate": self.rate,
        }


SPEAKERS = (
    Speaker("ada", True, 205.0, 4.5, 4.6, 1.0, "right", 1.3, 1.0, 0.30, 0.35),
    Speaker("ben", False, 110.0, 3.5, 4.2, 0.8, "both", 1.1, 0.9, 0.55, 0.25),
    Speaker("cleo", True, 190.0, 5.0, 5.0, 1.2, "both", 1.5, 1.2, 0.25, 0.45),
    Speaker("dev", False, 125.0, 3.0, 3.8, 0.6, "left", 1.0, 0.8, 0.75, 0.20),
    Speaker("eli", False, 100.0, 4.0, 4.8, 1.1, "right", 1.4, 1.1, 0.40, 0.40),
    Speaker("fay", True, 220.0, 4.0, 4.0, 0.9, "right", 1.2, 1.0, 0.50, 0.30),
    Speaker("gus", False, 118.0, 4.2, 4.4, 1.2, "left", 1.3, 1.0, 0.35, 0.35),
    Speaker("hana", True, 195.0, 4.8, 4.5, 1.0, "both", 1.2, 1.1, 0.45, 0.30),
)
SEEN_SPEAKERS = SPEAKERS[:6]
UNSEEN_SPEAKERS = SPEAKERS[6:]


def speaker_for(split: str, index: int) -> Speaker:
    """Speakers take turns within a split; "unseen" has only the held-out ones."""
    group = UNSEEN_SPEAKERS if split == "unseen" else SEEN_SPEAKERS
    return group[index % len(group)]


# ----------------------------------------------------------------------------- lexicon

# Semantic words: share of running speech and gesture label. The rarest sit at about 1 in 1000
# words, so the gesture labels have a long tail.
SEMANTIC_WORDS: dict[str, tuple[float, str]] = {
    "you": (0.012, "point"), "this": (0.008, "point"), "that": (0.008, "point"),
    "here": (0.005, "point"), "there": (0.005, "point"),
    "big": (0.0035, "size"), "small": (0.003, "size"), "wide": (0.0015, "size"),
    "tall": (0.0012, "size"), "round": (0.0012, "size"),
    "not": (0.006, "negation"), "no": (0.004, "negation"), "never": (0.003, "negation"),
    "up": (0.0025, "raise"), "rise": (0.001, "raise"),
    "circle": (0.001, "circle"), "count": (0.001, "count"), "heart": (0.001, "heart"),
}  # fmt: skip
SEMANTIC_SYLLABLES = {"never": 2, "circle": 2}  # the rest have one
FUNCTION_WORDS = (
    "the", "a", "and", "to", "of", "i", "it", "is", "in", "we", "so", "but", "was", "for",
    "with", "they", "on", "be", "have", "just", "then", "or", "at", "as", "my", "an",
)  # fmt: skip
CONTENT_WORDS = (  # (text, syllables, stressed syllable), most frequent first
    ("think", 1, 0), ("people", 2, 0), ("really", 2, 0), ("know", 1, 0), ("time", 1, 0),
    ("important", 3, 1), ("idea", 3, 1), ("problem", 2, 0), ("together", 3, 1),
    ("world", 1, 0), ("morning", 2, 0), ("water", 2, 0), ("music", 2, 0), ("family", 3, 0),
    ("computer", 3, 1), ("business", 2, 0), ("story", 2, 0), ("question", 2, 0),
    ("answer", 2, 0), ("working", 2, 0), ("friends", 1, 0), ("city", 2, 0), ("school", 1, 0),
    ("money", 2, 0), ("country", 2, 0), ("remember", 3, 1), ("different", 3, 0),
    ("started", 2, 0), ("moment", 2, 0), ("little", 2, 0), ("actually", 4, 0),
    ("company", 3, 0), ("finally", 3, 0), ("children", 2, 0), ("language", 2, 0),
    ("travel", 2, 0), ("summer", 2, 0), ("weekend", 2, 0), ("project", 2, 0), ("reason", 2, 0),
    ("second", 2, 0), ("beautiful", 3, 0), ("difficult", 3, 0), ("example", 3, 1),
    ("happened", 2, 0), ("special", 2, 0), ("teacher", 2, 0), ("market", 2, 0),
    ("garden", 2, 0), ("decided", 3, 1), ("believe", 2, 1), ("interesting", 4, 0),
    ("experience", 4, 1), ("change", 1, 0), ("learn", 1, 0), ("home", 1, 0), ("work", 1, 0),
    ("food", 1, 0), ("game", 1, 0),
)  # fmt: skip
FUNCTION_SHARE = 0.45  # of all words; semantic words take their listed shares, content the rest

# Vowel formants F1-F3 in Hz (adult male means, Peterson & Barney 1952) and their bandwidths.
VOWELS = np.array([
    [270, 2290, 3010], [390, 1990, 2550], [530, 1840, 2480], [660, 1720, 2410],
    [730, 1090, 2440], [570, 840, 2410], [440, 1020, 2240], [300, 870, 2240],
    [640, 1190, 2390], [490, 1350, 1690],
], dtype=np.float64)  # fmt: skip
SCHWA = np.array([500.0, 1500.0, 2500.0])
BANDWIDTHS = np.array([60.0, 90.0, 150.0])
NONE, FRICATIVE, PLOSIVE, NASAL = range(4)  # syllable onset classes
ONSET_P = (0.15, 0.35, 0.30, 0.20)


@dataclass(frozen=True)
class Lexeme:
    """A word of the lexicon with its phonology and the semantic gesture it triggers."""

    text: str
    stress: int  # index of the stressed syllable; -1 for function words (never accented)
    vowels: tuple[int, ...]
    onsets: tuple[int, ...]
    gesture: str | None


def _lexeme(text: str, n_syllables: int, stress: int, gesture: str | None = None) -> Lexeme:
    rng = np.random.default_rng(zlib.crc32(text.encode()))  # stable across runs and machines
    vowels = rng.integers(0, len(VOWELS), n_syllables).tolist()
    onsets = rng.choice(4, size=n_syllables, p=ONSET_P).tolist()
    return Lexeme(text, stress, tuple(vowels), tuple(onsets), gesture)


def _build_lexicon() -> tuple[tuple[Lexeme, ...], np.ndarray]:
    fn_w = 1.0 / np.arange(2, len(FUNCTION_WORDS) + 2)  # Zipf within each class
    ct_w = 1.0 / np.arange(2, len(CONTENT_WORDS) + 2) ** 0.9
    semantic = np.array([p for p, _ in SEMANTIC_WORDS.values()])
    lexemes = (
        [_lexeme(w, 1, -1) for w in FUNCTION_WORDS]
        + [_lexeme(w, n, s) for w, n, s in CONTENT_WORDS]
        + [_lexeme(w, SEMANTIC_SYLLABLES.get(w, 1), 0, g) for w, (_, g) in SEMANTIC_WORDS.items()]
    )
    content_share = 1.0 - FUNCTION_SHARE - semantic.sum()
    probs = np.concatenate(
        [FUNCTION_SHARE * fn_w / fn_w.sum(), content_share * ct_w / ct_w.sum(), semantic]
    )
    return tuple(lexemes), probs / probs.sum()


LEXICON, WORD_PROBS = _build_lexicon()
STRESSED_PROBS = np.where([w.stress >= 0 for w in LEXICON], WORD_PROBS, 0.0)
STRESSED_PROBS /= STRESSED_PROBS.sum()


# ----------------------------------------------------------------------------- the speech plan


@dataclass(frozen=True, eq=False)
class SpeechPlan:
    """What is said and when: the transcript and its syllables, before any audio or motion.

    Syllable arrays are (N,) in time order; times in seconds.
    """

    words: tuple[Word, ...]
    lexemes: tuple[Lexeme, ...]  # one per word
    phrases: np.ndarray  # (P, 2) start, end
    question: np.ndarray  # (P,) bool: the phrase ends in a rise
    syl_start: np.ndarray  # consonant onsets
    syl_vowel: np.ndarray  # vowel onsets: the syllable's time
    syl_end: np.ndarray
    syl_word: np.ndarray  # index into words
    syl_phrase: np.ndarray  # index into phrases
    vowel: np.ndarray  # row of VOWELS
    onset: np.ndarray  # NONE, FRICATIVE, PLOSIVE or NASAL
    stressed: np.ndarray  # bool: carries a pitch accent (and a beat)
    level: np.ndarray  # loudness in dB relative to a nominal stressed syllable

    @property
    def stress_times(self) -> np.ndarray:
        return self.syl_vowel[self.stressed]


def _accents(lex: list[Lexeme]) -> np.ndarray:
    """Lexical stresses less clashes: an accent on the syllable right after another is dropped,
    unless its word is semantic (then the earlier one goes)."""
    accent = [s == w.stress for w in lex for s in range(len(w.vowels))]
    semantic = [w.gesture is not None for w in lex for _ in w.vowels]
    last = -2
    for k, a in enumerate(accent):
        if a and k == last + 1:
            if not semantic[k]:
                accent[k] = False
                continue
            accent[last] = False
        if accent[k]:
            last = k
    return np.array(accent)


def plan_speech(
    rng: np.random.Generator, speaker: Speaker, seconds: float = CLIP_SECONDS
) -> SpeechPlan:
    """Phrases of words with syllable timings, accents and loudness, filling ``seconds``."""
    words: list[Word] = []
    lexemes: list[Lexeme] = []
    phrases: list[tuple[float, float]] = []
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("start", "vowel_at", "end", "word")}
    cols.update({k: [] for k in ("phrase", "vowel", "onset", "accent", "level")})
    t = float(rng.uniform(0.15, 0.6))
    while t < seconds - 0.8:
        lex = [LEXICON[i] for i in rng.choice(len(LEXICON), size=rng.integers(3, 11), p=WORD_PROBS)]
        if all(w.stress < 0 for w in lex):  # every phrase carries at least one accent
            lex[-1] = LEXICON[rng.choice(len(LEXICON), p=STRESSED_PROBS)]
        per_word = [len(w.vowels) for w in lex]
        word = np.repeat(np.arange(len(lex)), per_word)
        function = np.repeat([w.stress < 0 for w in lex], per_word)
        onset = np.array([c for w in lex for c in w.onsets])
        accent = _accents(lex)
        n = word.size
        dur = rng.lognormal(0.0, 0.12, n) / speaker.rate
        dur *= np.where(accent, 1.3, np.where(function, 0.75, 0.9))
        dur[-1] *= 1.35  # phrase-final lengthening
        end = t + np.cumsum(dur)
        start = end - dur
        vowel_at = start + np.where(onset == NONE, 0.0, rng.uniform(0.2, 0.32, n) * dur)
        level = rng.normal(0.0, 4.0) - 3.0 * np.arange(n) / n + rng.normal(0.0, 1.0, n)
        level -= 2.5 * ~accent + 1.5 * function
        word_end = end[np.cumsum(per_word) - 1]
        n_words = int(np.sum(word_end <= seconds - 0.15))  # words that end inside the clip
        if n_words == 0:
            break
        keep = word < n_words
        words += [
            Word(w.text, round(float(start[word == i][0]), 4), round(float(word_end[i]), 4))
            for i, w in enumerate(lex[:n_words])
        ]
        lexemes += lex[:n_words]
        for key, value in (
            ("start", start), ("vowel_at", vowel_at), ("end", end),
            ("word", word + len(words) - n_words), ("phrase", np.full(n, len(phrases))),
            ("vowel", np.array([v for w in lex for v in w.vowels])), ("onset", onset),
            ("accent", accent), ("level", level),
        ):  # fmt: skip
            cols[key].append(value[keep])
        phrases.append((float(start[0]), float(end[keep][-1])))
        pause = 0.3 + rng.gamma(2.0, 0.2) + (rng.uniform(0.4, 0.9) if rng.random() < 0.15 else 0)
        t = phrases[-1][1] + pause
    if not phrases:
        raise ValueError(f"plan_speech: seconds={seconds} is too short for a phrase")
    c = {k: np.concatenate(v) for k, v in cols.items()}
    return SpeechPlan(
        words=tuple(words),
        lexemes=tuple(lexemes),
        phrases=np.array(phrases),
        question=rng.random(len(phrases)) < 0.2,
        syl_start=c["start"],
        syl_vowel=c["vowel_at"],
        syl_end=c["end"],
        syl_word=c["word"],
        syl_phrase=c["phrase"],
        vowel=c["vowel"],
        onset=c["onset"],
        stressed=c["accent"],
        level=c["level"],
    )


# ----------------------------------------------------------------------------- audio

_FRICATIVE_SOS = butter(4, 3500.0, "highpass", fs=SAMPLE_RATE, output="sos")
_BURST_SOS = butter(2, (1200.0, 6000.0), "bandpass", fs=SAMPLE_RATE, output="sos")
_F0_HOP = 80  # samples between points of the pitch contour (5 ms)


def _formant_sos(formants: np.ndarray) -> np.ndarray:
    """(N, 3) formant frequencies -> (N, 3, 6) cascades of Klatt resonators with unity DC gain."""
    r = np.exp(-np.pi * BANDWIDTHS / SAMPLE_RATE)
    a1 = -2.0 * r * np.cos(2.0 * np.pi * formants / SAMPLE_RATE)
    a2 = np.broadcast_to(r * r, a1.shape)
    zero = np.zeros_like(a1)
    return np.stack([1.0 + a1 + a2, zero, zero, np.ones_like(a1), a1, a2], axis=-1)


def _glottal_cycles(rng: np.random.Generator, plan: SpeechPlan, speaker: Speaker) -> np.ndarray:
    """Glottal cycles elapsed at each point of the 5 ms pitch grid.

    The pitch contour: declination over each phrase, an accent on each stressed syllable, a final
    fall (or a question's rise), a slow random drift.
    """
    tc = np.arange(N_SAMPLES // _F0_HOP + 1) * (_F0_HOP / SAMPLE_RATE)
    p = np.clip(np.searchsorted(plan.phrases[:, 0], tc, side="right") - 1, 0, None)
    start, end = plan.phrases[p, 0], plan.phrases[p, 1]
    pos = np.clip((tc - start) / (end - start), 0.0, 1.0)
    semitones = 2.0 - 4.0 * pos
    final = np.clip((tc - end + 0.3) / 0.3, 0.0, 1.0) * (pos < 1.0)
    semitones += np.where(plan.question[p], 6.0, -2.0) * final**2
    centre = 0.5 * (plan.syl_vowel + plan.syl_end)[plan.stressed]
    height = speaker.accent * rng.uniform(0.6, 1.2, centre.size)
    semitones += height @ np.exp(-0.5 * ((tc - centre[:, None]) / 0.08) ** 2)
    drift_t = np.arange(0.0, CLIP_SECONDS + 0.2, 0.1)
    semitones += np.interp(tc, drift_t, rng.normal(0.0, 0.4, drift_t.size))
    f0 = speaker.f0 * 2.0 ** (semitones / 12.0)
    return np.concatenate([[0.0], np.cumsum(0.5 * (f0[1:] + f0[:-1]))]) * (_F0_HOP / SAMPLE_RATE)


def _glottal_pulses(cycles: np.ndarray) -> np.ndarray:
    """Derivative of a Rosenberg-type glottal flow: a smooth opening over 40% of each cycle, then
    a parabolic closing over 16% that ends abruptly (the source of the harmonics)."""
    phase = cycles - np.floor(cycles)
    x = np.minimum(phase * 2.5, 1.0)
    y = np.clip((phase - 0.4) * 6.25, 0.0, 1.0)
    flow = x * x * (3.0 - 2.0 * x) - y * y
    return np.diff(flow, prepend=flow[0])


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _envelope(u: np.ndarray, attack: float, release: float) -> np.ndarray:
    """Smooth attack and release at positions u in [0, 1] through a segment."""
    return _smoothstep(u / attack) * _smoothstep((1.0 - u) / release)


def _spans(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices of the spans [lo_i, hi_i) one after another, and each one's position in
    its span as a fraction (so per-span shapes are computed in one pass)."""
    n = hi - lo
    offset = np.repeat(lo - (np.cumsum(n) - n), n)
    idx = np.arange(n.sum()) + offset
    return idx, (idx - np.repeat(lo, n) + 0.5) / np.repeat(n, n)


def synthesize_speech(rng: np.random.Generator, plan: SpeechPlan, speaker: Speaker) -> np.ndarray:
    """(N_SAMPLES,) float32 speech peaking at -3 dBFS, quantised to 16 bit (k / 32768)."""
    cycles = _glottal_cycles(rng, plan, speaker)
    noise = (rng.random(N_SAMPLES) - 0.5) * np.sqrt(12.0)  # white, unit variance
    scale = 1.17 if speaker.female else 1.0  # shorter vocal tract, higher formants
    formants = VOWELS[plan.vowel] * scale
    formants = np.where(plan.stressed[:, None], formants, 0.5 * (formants + SCHWA * scale))
    sos = _formant_sos(formants * rng.uniform(0.95, 1.05, formants.shape))
    gain = 10.0 ** (plan.level / 20.0)
    breath = rng.uniform(0.004, 0.012)  # a little aspiration noise
    a, v, b = np.round(np.stack([plan.syl_start, plan.syl_vowel, plan.syl_end]) * SAMPLE_RATE)
    a, v, b = a.astype(int), v.astype(int), b.astype(int)
    lo = np.where(plan.onset == NASAL, a, v)  # a nasal is a quiet voiced murmur before its vowel
    # The voiced part of every syllable at once: glottal pulses and breath under an envelope.
    idx, u = _spans(lo, b)
    voice = _glottal_pulses(np.interp(idx / _F0_HOP, np.arange(cycles.size), cycles))
    voice = (voice + breath * noise[idx]) * _envelope(u, 0.15, 0.35)
    voice[idx < np.repeat(v, b - lo)] *= 0.3
    tail = SAMPLE_RATE // 50  # 20 ms of formant ring-down
    out = np.zeros(N_SAMPLES + tail)
    at = 0
    for i in range(plan.vowel.size):
        n = b[i] - lo[i]
        voiced = sosfilt(sos[i], np.concatenate([voice[at : at + n], np.zeros(tail)]))
        at += n
        # The vowel's RMS is the planned loudness, whatever its pitch and formants.
        out[lo[i] : b[i] + tail] += voiced * (gain[i] * np.sqrt((b[i] - v[i]) / np.sum(voiced**2)))
        if plan.onset[i] == FRICATIVE:
            hiss = sosfilt(_FRICATIVE_SOS, noise[a[i] : v[i]])
            hiss *= _envelope(np.linspace(0.0, 1.0, v[i] - a[i]), 0.3, 0.3)
            out[a[i] : v[i]] += 0.5 * gain[i] * hiss
        elif plan.onset[i] == PLOSIVE:  # a silent closure, then a burst decaying into aspiration
            c = a[i] + (v[i] - a[i]) * 3 // 5
            burst = sosfilt(_BURST_SOS, noise[c : v[i]])
            burst *= np.exp(-np.arange(v[i] - c) / (0.008 * SAMPLE_RATE))
            out[c : v[i]] += 1.2 * gain[i] * burst
    x = out[:N_SAMPLES]
    room = np.sqrt(np.mean(x**2)) * 10 ** (-45 / 20)  # a noise floor 45 dB under the speech
    x += room * noise[::-1]
    x *= PEAK / np.abs(x).max()
    return (np.round(x * 32767.0) / 32768.0).astype(np.float32)


# ----------------------------------------------------------------------------- motion

# Arm poses are (abduction, forward flexion, internal twist, elbow flexion, wrist flexion, wrist
# deviation) in radians for the left arm; the right arm mirrors them. Zero abduction and flexion
# hang the arm down (the skeleton's rest offsets are a T-pose).
L_ARM, R_ARM = (8, 10, 12), (9, 11, 13)  # shoulder, elbow, wrist
HEAD, NECK, SPINE = 7, 4, (1, 2, 3)
_MIRROR = np.outer([-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0])  # conjugation by x -> -x
HOME = np.array([0.25, 0.3, 0.5, 1.4, 0.1, 0.0])  # hands in front of the belly
BEAT_UP = np.array([0.0, 0.15, 0.0, 0.55, 0.2, 0.0])  # top of a beat loop, per unit size
BEAT_SIDE = np.array([0.25, 0.0, -0.12, 0.0, 0.0, 0.0])  # its outward bulge: a round loop
LOOP_SECONDS = 0.6  # a beat loop this long has the nominal size; loops grow with their time
ARM_SPEED = 2.1  # most beat size per second of loop (keeps hands under MAX_STEP)
REST_PAUSE = 1.2  # seconds of pause after which the hands go back to rest
SWEEP = 0.5  # seconds of a sweeping semantic stroke (negation, raise)
PREP_SPEED = 1.1  # m/s: mean hand speed of a semantic gesture's preparation and retraction


@dataclass(frozen=True)
class Semantic:
    """A semantic gesture: the dominant arm reaches ``pose`` at the stroke apex (the word's stress)."""

    label: str
    pose: tuple[float, ...]
    other: tuple[float, ...] | None = None  # the other arm's pose; None = one-handed
    approach: tuple[float, ...] | None = None  # the stroke sweeps in from this pose
    hold: float = 0.4  # seconds held (or traced) after the apex
    trace: str = ""  # motion during the hold: "circle" or "count"
    shake: bool = False  # a head shake


_YOU = (0.15, 1.2, 0.3, 0.25, 0.0, 0.0)  # arm stretched forward
_THERE = (0.7, 0.9, -0.2, 0.3, 0.0, 0.0)  # stretched out to the side
_HERE = (0.1, 0.45, 0.4, 0.8, 0.6, 0.0)  # pointing down in front
_BIG = (0.8, 0.7, -0.3, 0.6, 0.0, 0.0)  # hands wide apart
_SMALL = (0.05, 0.6, 0.45, 1.4, 0.0, 0.0)  # hands close together
_ROUND = (0.5, 0.7, 0.1, 1.0, 0.0, 0.0)  # hands around a ball
_NEGATE = (0.7, 0.55, -0.2, 0.9, 0.0, 0.0)  # swept out to the side
_CENTRE = (0.05, 0.6, 0.6, 1.3, 0.0, 0.0)
_HIGH = (0.25, 1.8, 0.3, 0.6, 0.0, 0.0)  # raised above the shoulder
_LOW = (0.2, 0.15, 0.5, 1.2, 0.2, 0.0)
_HEART = (0.3, 0.5, 0.9, 2.0, 0.0, 0.0)  # hand on the chest
GESTURES: dict[str, Semantic] = {
    "you": Semantic("point", _YOU),
    "this": Semantic("point", _HERE),
    "here": Semantic("point", _HERE),
    "that": Semantic("point", _THERE),
    "there": Semantic("point", _THERE),
    "big": Semantic("size", _BIG, other=_BIG),
    "wide": Semantic("size", _BIG, other=_BIG, hold=0.5),
    "small": Semantic("size", _SMALL, other=_SMALL),
    "tall": Semantic("size", _HIGH, other=_LOW),
    "round": Semantic("size", _ROUND, other=_ROUND),
    "not": Semantic("negation", _NEGATE, approach=_CENTRE, hold=0.3, shake=True),
    "no": Semantic("negation", _NEGATE, approach=_CENTRE, hold=0.3, shake=True),
    "never": Semantic("negation", _NEGATE, approach=_CENTRE, hold=0.4, shake=True),
    "up": Semantic("raise", _HIGH, approach=tuple(HOME)),
    "rise": Semantic("raise", _HIGH, other=_HIGH, approach=tuple(HOME), hold=0.5),
    "circle": Semantic("circle", (0.2, 0.9, 0.3, 1.2, 0.0, 0.0), hold=1.2, trace="circle"),
    "count": Semantic("count", (0.2, 0.7, 0.3, 1.5, 0.0, 0.0), hold=0.8, trace="count"),
    "heart": Semantic("heart", _HEART, other=_HEART, hold=0.6),
}
assert {w: g.label for w, g in GESTURES.items()} == {w: g for w, (_, g) in SEMANTIC_WORDS.items()}


def _ease(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk easing from 0 to 1 (zero velocity and acceleration at both ends), clipped."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 + u * (6.0 * u - 15.0))


def _keyframes(t: np.ndarray, times: list[float], values: np.ndarray) -> np.ndarray:
    """Eased interpolation through (K,) increasing key times with (K, ...) values."""
    key_t = np.asarray(times, dtype=np.float64)
    i = np.clip(np.searchsorted(key_t, t, side="right") - 1, 0, len(key_t) - 2)
    s = _ease((t - key_t[i]) / (key_t[i + 1] - key_t[i]))
    s = s.reshape(s.shape + (1,) * (values.ndim - 1))
    return values[i] + s * (values[i + 1] - values[i])


@dataclass
class _Arm:
    """One arm's timeline: engagement keys, beat loops, semantic overlays."""

    keys: list[tuple[float, float]] = field(default_factory=lambda: [(-10.0, 0.0)])
    # (start, apex, size, stressed syllable or -1 for a phrase's settling loop, which is no beat)
    loops: list[tuple[float, float, float, int]] = field(default_factory=list)
    overlays: list[tuple[Semantic, bool, float, float, float]] = field(default_factory=list)


def _active_arms(
    rng: np.random.Generator, n_phrases: int, handedness: str
) -> tuple[np.ndarray, int]:
    """(P, 2) which arms gesture in each phrase, and the dominant arm (0 left, 1 right).

    Whether the other hand joins is a Markov chain over phrases: a speaker keeps a habit.
    """
    dominant = {"left": 0, "right": 1}.get(handedness, int(rng.integers(2)))
    both_handed = handedness == "both"
    stay = {True: 0.9, False: 0.6} if both_handed else {True: 0.6, False: 0.9}
    draws = rng.random(n_phrases + 1)
    active = np.zeros((n_phrases, 2), dtype=bool)
    active[:, dominant] = True
    both = bool(draws[0] < (0.8 if both_handed else 0.2))
    for p in range(n_phrases):
        active[p, 1 - dominant] = both
        both = both if draws[p + 1] < stay[both] else not both
    return active, dominant


def _plan_arms(
    rng: np.random.Generator, plan: SpeechPlan, speaker: Speaker
) -> tuple[list[_Arm], int]:
    """Engagement keys and beat loops of both arms."""
    active, dominant = _active_arms(rng, len(plan.phrases), speaker.handedness)
    size = speaker.amplitude * 10.0 ** (1.5 * plan.level / 20.0)  # louder speech, bigger beats
    # Engagement moves while speech goes on: it rises from just before a phrase to its first
    # stress and retracts from its last stress, so pauses are mostly still.
    first, last = plan.phrases[:, 0] + 0.3, plan.phrases[:, 1] - 0.3
    for p in range(len(plan.phrases)):
        stress = plan.syl_vowel[plan.stressed & (plan.syl_phrase == p)]
        if stress.size:
            first[p], last[p] = max(stress[0], first[p]), stress[-1]
    retract = 0.8 / speaker.tempo
    arms = [_Arm(), _Arm()]
    for a, arm in enumerate(arms):
        phrases = np.flatnonzero(active[:, a])
        starts, ends = plan.phrases[phrases, 0], plan.phrases[phrases, 1]
        pause_before = starts - np.concatenate([[-100.0], ends[:-1]])
        pause_after = np.concatenate([starts[1:], [100.0]]) - ends
        keys = arm.keys
        timing = zip(phrases, starts, ends, pause_before, pause_after, strict=True)
        for p, start, end, before, after in timing:
            if before > REST_PAUSE:  # from rest: prepare
                keys += [(start - 0.15, 0.0), (max(first[p], start + 0.6), 1.0)]
            if after > REST_PAUSE:  # a long pause or the end: retract (else hold)
                keys += [(last[p], 1.0), (max(end, last[p] + 0.3) + retract, 0.0)]
        keys.append((100.0, 0.0))
        arm.keys = keys[:1]  # where a short phrase makes movements overlap, the earlier key wins
        for key in keys[1:]:
            if key[0] > arm.keys[-1][0] + 0.05:
                arm.keys.append(key)
        # Loops run from apex to apex within a phrase: the first starts with the phrase, a last
        # one settles over an unstressed tail.
        loop_end = -100.0
        for p in phrases:
            in_phrase = plan.syl_phrase == p
            syllables = np.flatnonzero(plan.stressed & in_phrase).tolist()
            if not syllables:
                continue
            start, end = plan.phrases[p]
            apex0 = plan.syl_vowel[syllables[0]]
            bounds = [float(max(min(max(start - 0.1, apex0 - 0.5), apex0 - 0.3), loop_end))]
            bounds += plan.syl_vowel[syllables].tolist()
            if end - bounds[-1] > 0.35:
                bounds.append(end)
                syllables.append(-1)
            for t0, t1, syl in zip(bounds[:-1], bounds[1:], syllables, strict=True):
                during = in_phrase & (plan.syl_vowel >= t0) & (plan.syl_vowel <= t1)
                # A loop grows with its time, so hand speed follows loudness, not stress spacing.
                grow = np.clip((t1 - t0) / LOOP_SECONDS, 0.5, 1.6)
                amp = float(np.clip(size[during].max() * grow, 0.25, 1.5))
                amp = min(amp, ARM_SPEED * (t1 - t0) / speaker.sharpness)
                arm.loops.append((t0, t1, amp, syl))
            loop_end = bounds[-1]
    return arms, dominant


def _rest_and_home(speaker: Speaker) -> tuple[np.ndarray, np.ndarray]:
    """The speaker's arm angles at rest (hanging) and at home (ready in gesture space)."""
    rest = np.array([0.12, 0.0, 0.2, speaker.rest_elbow, 0.0, 0.0])
    home = HOME + np.array([0.0, speaker.home_flex - HOME[1], 0.0, 0.0, 0.0, 0.0])
    return rest, home


def _hand(q: np.ndarray) -> np.ndarray:
    """(K, 6) left-arm angles -> (K, 3) hand positions relative to the shoulder."""
    shoulder, elbow, wrist = _arm_rotations(q)
    upper, fore, palm = UPPER_BODY.offsets[[L_ARM[1], L_ARM[2], 14]]
    forearm = fore + np.einsum("kij,j->ki", wrist, palm)
    return np.einsum("kij,kj->ki", shoulder, upper + np.einsum("kij,kj->ki", elbow, forearm))


def _farthest(a: np.ndarray, b: np.ndarray) -> float:
    """The largest distance between a point of (K, 3) a and a point of (L, 3) b."""
    return float(np.linalg.norm(a[:, None] - b[None], axis=-1).max())


def _add_semantic(
    arms: list[_Arm], plan: SpeechPlan, speaker: Speaker, dominant: int
) -> list[dict]:
    """Put a semantic gesture on each trigger word that leaves time to prepare it.

    Preparation and retraction take long enough for the hand's path from (or back to) rest, home
    or a gesture still on. A trigger word gets no gesture when the previous one's hold leaves too
    little of that time: the hands are still busy.
    """
    rest, home = _rest_and_home(speaker)
    prep_min = 0.7 / speaker.tempo
    out: list[dict[str, Any]] = []
    held_until, last_end, last_poses = -100.0, -100.0, np.empty((0, 6))
    for w, (word, lex) in enumerate(zip(plan.words, plan.lexemes, strict=True)):
        if lex.gesture is None:
            continue
        g = GESTURES[word.text]
        stroke = float(plan.syl_vowel[plan.syl_word == w][lex.stress])
        ready = stroke - (SWEEP if g.approach is not None else 0.0)  # the first pose is reached
        poses = np.array([g.pose] if g.other is None else [g.pose, g.other])
        first = poses.copy()
        if g.approach is not None:
            first[0] = g.approach
        origins = np.vstack([rest, home] + ([last_poses] if last_end > ready - prep_min else []))
        way_in = _farthest(_hand(first), _hand(origins))
        way_out = _farthest(_hand(poses), _hand(np.stack([rest, home])))
        prep = max(prep_min, way_in / PREP_SPEED)
        start = max(ready - prep, held_until)
        if ready - start < 0.8 * prep:
            continue
        end = stroke + g.hold + max(0.8 / speaker.tempo, way_out / PREP_SPEED)
        hands = [dominant] if g.other is None else [dominant, 1 - dominant]
        for a in hands:
            arms[a].overlays.append((g, a == dominant, start, stroke, end))
        out.append(
            {"label": g.label, "kind": "semantic",
             "hand": "both" if len(hands) == 2 else ("left", "right")[dominant],
             "start": round(start, 4), "stroke": round(stroke, 4), "end": round(end, 4),
             "word": word.text}
        )  # fmt: skip
        held_until, last_end, last_poses = stroke + g.hold, end, poses
    return out


def _overlay(
    t: np.ndarray, g: Semantic, dominant: bool, start: float, stroke: float, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """(T,) blend weight and (T, 6) target pose of one semantic gesture on one arm."""
    pose = np.asarray(g.pose if dominant else g.other, dtype=np.float64)
    sweep = dominant and g.approach is not None
    ready = stroke - SWEEP if sweep else stroke
    weight = _keyframes(t, [start, ready, stroke + g.hold, end], np.array([0.0, 1.0, 1.0, 0.0]))
    if sweep:
        target = _keyframes(t, [ready, stroke], np.array([g.approach, pose]))
    else:
        target = np.tile(pose, (t.size, 1))
    u = (t - stroke) / g.hold
    holding = ((u > 0.0) & (u < 1.0))[:, None]
    if dominant and g.trace == "circle":  # a circle in the frontal plane, from its top
        phi = 2.0 * np.pi * _ease(u)[:, None]
        up, side = np.array([0, 0.15, 0, 0.35, 0, 0]), np.array([0.2, 0, -0.25, 0, 0, 0])
        target += holding * (np.sin(phi) * side + (np.cos(phi) - 1.0) * up)
    elif dominant and g.trace == "count":  # three taps, stepping sideways
        taps = np.sin(np.pi * np.clip(3.0 * u, 0.0, 3.0))[:, None] ** 2
        step = _ease(np.clip(3.0 * u - 0.5, 0.0, 2.0) / 2.0)[:, None]
        target += holding * taps * np.array([0, 0, 0, -0.25, 0.4, 0])
        target += step * np.array([0.2, 0, -0.2, 0, 0, 0])
    return weight, target


def _arm_angles(t: np.ndarray, arm: _Arm, speaker: Speaker) -> np.ndarray:
    """(T, 6) arm angles: rest or home by engagement, semantic overlays, beat loops on top."""
    rest, home = _rest_and_home(speaker)
    times, values = zip(*arm.keys, strict=True)
    engage = _keyframes(t, list(times), np.array(values))[:, None]
    q = rest + engage * (home - rest)
    beat = np.zeros_like(q)
    if arm.loops:
        start, apex, size, _ = (np.array(c) for c in zip(*arm.loops, strict=True))
        i = np.clip(np.searchsorted(start, t, side="right") - 1, 0, None)
        inside = (t >= start[i]) & (t < apex[i])
        u = np.clip((t - start[i]) / (apex[i] - start[i]), 0.0, 1.0) ** speaker.sharpness
        # A cubic time warp: the hand stops at each apex (the loop is C1 there) and keeps a flatter
        # speed than minimum jerk would between apexes, which keeps the peak speed down.
        theta = (2.0 * np.pi * u * u * (3.0 - 2.0 * u))[:, None]
        loop = 0.5 * (1.0 - np.cos(theta)) * BEAT_UP + np.sin(theta) * BEAT_SIDE
        beat = engage * (size[i] * inside)[:, None] * loop
    busy = np.zeros((t.size, 1))
    for g, dominant, start, stroke, end in arm.overlays:
        w, target = _overlay(t, g, dominant, start, stroke, end)
        q += w[:, None] * (target - q)
        busy = np.maximum(busy, w[:, None])
    # Beats go on at half size through a semantic gesture's hold, and smaller while it moves.
    return q + beat * ((1.0 - busy) ** 2 + 0.5 * busy**2)


def _arm_rotations(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 6) left-arm angles -> (T, 3, 3) local rotations of shoulder, elbow and wrist."""
    abd, flex, twist, elbow, wrist_flex, wrist_dev = q.T
    lower = axis_rotation(abd - np.pi / 2, "z")  # from the T-pose down to the side
    shoulder = axis_rotation(-flex, "x") @ lower @ axis_rotation(twist, "x")
    wrist = axis_rotation(-wrist_flex, "z") @ axis_rotation(-wrist_dev, "y")
    return shoulder, axis_rotation(-elbow, "y"), wrist


def _beat_annotations(arms: list[_Arm], plan: SpeechPlan) -> list[dict[str, Any]]:
    """One "beat" per stressed syllable an arm strokes on; it spans its loop and half the next."""
    spans: dict[int, list[tuple[int, float, float]]] = {}
    for a, arm in enumerate(arms):
        for k, (start, apex, _, syl) in enumerate(arm.loops):
            after = arm.loops[k + 1] if k + 1 < len(arm.loops) else None
            end = apex + (0.5 * (after[1] - apex) if after and after[0] == apex else 0.3)
            if syl >= 0:
                spans.setdefault(syl, []).append((a, start, end))
    return [
        {"label": "beat", "kind": "beat",
         "hand": "both" if len(s) == 2 else ("left", "right")[s[0][0]],
         "start": round(min(h[1] for h in s), 4), "stroke": round(float(plan.syl_vowel[syl]), 4),
         "end": round(max(h[2] for h in s), 4), "word": plan.words[plan.syl_word[syl]].text}
        for syl, s in sorted(spans.items())
    ]  # fmt: skip


def synthesize_motion(
    rng: np.random.Generator, plan: SpeechPlan, speaker: Speaker
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """(N_FRAMES, 16, 3) float32 joint positions and the gesture annotations, by stroke time."""
    t = np.arange(N_FRAMES) / FPS
    arms, dominant = _plan_arms(rng, plan, speaker)
    semantic = _add_semantic(arms, plan, speaker, dominant)
    rot = np.tile(np.eye(3), (N_FRAMES, UPPER_BODY.n_joints, 1, 1))
    raised = np.zeros(N_FRAMES)  # how far the arms are up in gesture space, 0..1
    for a, joints in enumerate((L_ARM, R_ARM)):
        q = _arm_angles(t, arms[a], speaker)
        raised += np.clip(q[:, 1] + q[:, 3] - 0.3, 0.0, 2.0) / 4.0
        for j, r in zip(joints, _arm_rotations(q), strict=True):
            rot[:, j] = r * _MIRROR if a == 1 else r
    # Head: a nod on every stress, a shake on negations, slow gaze shifts.
    phase = rng.uniform(0.0, 2.0 * np.pi, 6)
    nod_size = 0.06 * np.clip(10.0 ** (plan.level[plan.stressed] / 20.0), 0.3, 1.5)
    nod = nod_size @ np.exp(-0.5 * ((t - plan.stress_times[:, None]) / 0.12) ** 2)
    yaw = 0.12 * np.sin(2 * np.pi * 0.11 * t + phase[0])
    for g in semantic:
        if GESTURES[g["word"]].shake:
            u = np.clip((t - g["stroke"] + 0.1) / 0.8, 0.0, 1.0)
            yaw += 0.18 * np.sin(np.pi * u) ** 2 * np.sin(2 * np.pi * 2.6 * u)
    rot[:, NECK] = axis_rotation(0.4 * nod, "x") @ axis_rotation(0.4 * yaw, "y")
    rot[:, HEAD] = axis_rotation(0.6 * nod - 0.05, "x") @ axis_rotation(0.6 * yaw, "y")
    # Torso: lean in while gesturing, sway, turn a little with the gaze.
    lean = 0.03 + 0.04 * raised
    side = 0.025 * np.sin(2 * np.pi * 0.07 * t + phase[1])
    turn = 0.04 * np.sin(2 * np.pi * 0.05 * t + phase[2]) + 0.2 * yaw
    for j, share in zip(SPINE, (0.4, 0.35, 0.25), strict=True):
        rot[:, j] = (
            axis_rotation(share * side, "z")
            @ axis_rotation(share * turn, "y")
            @ axis_rotation(share * lean, "x")
        )
    root = np.stack(
        [0.01 * np.sin(2 * np.pi * 0.13 * t + phase[3]),
         1.0 + 0.005 * np.sin(2 * np.pi * 0.21 * t + phase[4]),
         0.01 * np.sin(2 * np.pi * 0.09 * t + phase[5])],
        axis=-1,
    )  # fmt: skip
    motion = UPPER_BODY.forward_kinematics(rot, root).astype(np.float32)
    gestures = sorted(_beat_annotations(arms, plan) + semantic, key=lambda g: g["stroke"])
    return motion, gestures


# ----------------------------------------------------------------------------- the generator


class SpeechGestureGenerator:
    """The "speech-gesture" corpus: 10 s clips of synthetic speech with upper-body gestures.

    ``generate(seed, split, index)`` draws everything from one numpy Generator seeded with
    (seed, split, index), so a clip is the same byte for byte on every run.
    """

    name = "speech-gesture"
    version = "2"
    fps = FPS
    sample_rate = SAMPLE_RATE
    skeleton = UPPER_BODY
    clip_seconds = CLIP_SECONDS
    audio_kind = "speech"
    split_sizes: Mapping[str, int] = {"train": 360, "val": 30, "test": 36, "unseen": 36}

    def generate(self, seed: int, split: str, index: int) -> GeneratedClip:
        rng = clip_rng(seed, split, index, self.split_sizes)
        speaker = speaker_for(split, index)
        plan = plan_speech(rng, speaker)
        audio = synthesize_speech(rng, plan, speaker)
        motion, gestures = synthesize_motion(rng, plan, speaker)
        return GeneratedClip(
            audio=audio,
            motion=motion,
            beats=plan.stress_times,
            words=plan.words,
            annotations={
                "speaker": speaker.name,
                "handedness": speaker.handedness,
                "style": speaker.style,
                "stress_times": plan.stress_times,
                "syllable_times": plan.syl_vowel,
                "phrases": [[round(float(a), 4), round(float(b), 4)] for a, b in plan.phrases],
                "gestures": gestures,
            },
        )


if __name__ == "__main__":
    import time

    gen = SpeechGestureGenerator()
    gen.generate(0, "train", 0)  # warm up
    seconds = []
    for i in range(20):
        t0 = time.perf_counter()
        gen.generate(0, "train", i)
        seconds.append(time.perf_counter() - t0)
    ms = 1e3 * float(np.median(seconds))
    print(f"speech-gesture: {ms:.1f} ms per 10 s clip (median of 20), {1e4 / ms:.0f}x real time")
