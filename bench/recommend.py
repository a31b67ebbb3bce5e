""" "For you" measured on the listings, side by side with the peers' methods.

Simulated readers are authors with several papers: a reader's papers before the evaluation
days are their library (saved on their listing days), and each of their papers announced on
an evaluation day is a relevant item, ranked among every paper announced that day (the
library's own papers left out). Methods: newest first (the baseline a plain list gives),
tf-idf + linear SVM over title, abstract and author names (arxiv-sanity-lite's method and
parameters), embedding similarity with recency weights (zotero-arxiv-daily's), and ours
(dailypapers.ranking.recommend). These readers are the authors of their relevant papers,
which favours any use of author names, so arxiv-sanity-lite's method and ours are also run
without them (`tfidf_svm_text_only`, `ours_text_only`). Reported:
Recall@10 and MRR per day-list, the time to rank one day for 10,000 readers, and the time to
refit one reader's model after a save for a 1,000-paper library.

    .venv/bin/python bench/recommend.py [--readers 300] [--days 2] [--json]

Embeddings come from the product's encoder, cached in bench/.cache/recommend (a few minutes
the first time on 2 cores; `pip install scikit-learn` for the peer). The last line of --json
is the figures as JSON.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import date

import numpy as np
import orjson
from embedding_cache import CACHE, listings
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from dailypapers.ranking.recommend import Authorship, Example, fit, save_weight, scores
from dailypapers.search.encoder import MiniLM, paper_text

SEED = 13
BACKGROUND = 2000  # other papers the SVM sees as negatives, besides the day's
TOP = 10


def arxiv_sanity_vectorizer() -> TfidfVectorizer:
    """arxiv-sanity-lite's compute.py parameters."""
    return TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
    )


def arxiv_sanity_text(paper: dict) -> str:
    """What arxiv-sanity-lite's compute.py gives its tf-idf: title, abstract and authors."""
    return " ".join([paper["title"], paper["abstract"], " ".join(paper["authors"])])


def embeddings(papers: dict[str, dict], ids: list[str]) -> dict[str, np.ndarray]:
    """The product's embeddings of `ids`, computed once and kept in bench/.cache/recommend."""
    path = CACHE / "recommend" / "embeddings.npz"
    kept: dict[str, np.ndarray] = {}
    if path.exists():
        stored = np.load(path)
        kept = dict(zip(stored["ids"].tolist(), stored["vectors"], strict=True))
    missing = [i for i in ids if i not in kept]
    if missing:
        encoder = MiniLM(CACHE / "models")
        started = time.perf_counter()
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            texts = [paper_text(papers[i]["title"], papers[i]["abstract"]) for i in batch]
            kept.update(zip(batch, encoder.encode(texts), strict=True))
            done = start + len(batch)
            rate = done / (time.perf_counter() - started)
            print(f"embedded {done}/{len(missing)}, {rate:.1f}/s", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        names = list(kept)
        np.savez(path, ids=np.array(names), vectors=np.array([kept[i] for i in names]))
    return {i: kept[i] for i in ids}


def simulated_readers(
    papers: dict[str, dict], days: int, count: int
) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
    """The evaluation days, and per reader their library and their papers of those days."""
    listed = sorted({p["listed"][0] for p in papers.values()})
    evaluated = listed[-days:]
    by_author: dict[str, list[str]] = defaultdict(list)
    for paper_id, paper in papers.items():
        for author in paper["authors"]:
            by_author[author].append(paper_id)
    libraries, relevant = {}, {}
    for author, ids in sorted(by_author.items()):
        later = [i for i in ids if papers[i]["listed"][0] in evaluated]
        earlier = [i for i in ids if papers[i]["listed"][0] < evaluated[0]]
        if later and len(earlier) >= 2:
            libraries[author], relevant[author] = earlier, later
    chosen = np.random.default_rng(SEED).choice(
        sorted(libraries), size=min(count, len(libraries)), replace=False
    )
    return evaluated, {a: libraries[a] for a in chosen}, {a: relevant[a] for a in chosen}


def newest(candidates: list[str], **_: object) -> list[str]:
    return sorted(candidates, reverse=True)


def measure(rankings: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    recall, reciprocal = [], []
    for ranked, wanted in rankings:
        recall.append(len(set(ranked[:TOP]) & wanted) / len(wanted))
        first = next((n for n, i in enumerate(ranked, 1) if i in wanted), None)
        reciprocal.append(1 / first if first else 0.0)
    return {
        "recall@10": round(float(np.mean(recall)), 4),
        "mrr": round(float(np.mean(reciprocal)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=300)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()

    papers = {p["id"]: p for p in listings() if p.get("listed")}
    days, libraries, relevant = simulated_readers(papers, options.days, options.readers)
    on_day = {d: [i for i, p in papers.items() if p["listed"][0] == d] for d in days}
    rng = np.random.default_rng(SEED)
    ordered = sorted(papers)
    background = [ordered[i] for i in rng.choice(len(ordered), BACKGROUND, replace=False)]
    needed = sorted(
        {
            *background,
            *(i for d in days for i in on_day[d]),
            *(i for lib in libraries.values() for i in lib),
        }
    )
    vectors = embeddings(papers, needed)

    started = time.perf_counter()
    tfidf = arxiv_sanity_vectorizer()
    corpus = tfidf.fit_transform([arxiv_sanity_text(p) for p in papers.values()])
    text_corpus = arxiv_sanity_vectorizer().fit_transform(
        [paper_text(p["title"], p["abstract"]) for p in papers.values()]
    )
    row = {paper_id: n for n, paper_id in enumerate(papers)}
    print(
        f"tf-idf over {len(papers):,} papers in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )

    results: dict[str, list[tuple[list[str], set[str]]]] = defaultdict(list)
    for reader, library in libraries.items():
        mine = set(library)
        for day in days:
            wanted = {i for i in relevant[reader] if papers[i]["listed"][0] == day}
            if not wanted:
                continue
            candidates = [i for i in on_day[day] if i not in mine]
            results["newest"].append((newest(candidates), wanted))
            results["tfidf_svm"].append(
                (tfidf_svm(corpus, row, library, candidates, background), wanted)
            )
            results["tfidf_svm_text_only"].append(
                (tfidf_svm(text_corpus, row, library, candidates, background), wanted)
            )
            results["embedding_similarity"].append(
                (similarity(vectors, papers, library, candidates), wanted)
            )
            ranked_ours = ours(vectors, papers, library, candidates, day, background)
            results["ours"].append((ranked_ours, wanted))
            text_only = ours(vectors, papers, library, candidates, day, background, authors=False)
            results["ours_text_only"].append((text_only, wanted))
    figures: dict[str, object] = {name: measure(ranked) for name, ranked in results.items()}
    figures["lists"] = len(results["ours"])
    figures["readers"] = len(libraries)
    figures.update(timings(vectors, papers))
    best_peer = max(figures["tfidf_svm"]["recall@10"], figures["embedding_similarity"]["recall@10"])  # type: ignore[index]
    figures["ours_vs_best_peer_recall@10"] = (
        round(figures["ours"]["recall@10"] / best_peer, 3) if best_peer else None
    )  # type: ignore[index]
    methods = ("newest", "tfidf_svm", "tfidf_svm_text_only", "embedding_similarity")
    for name in (*methods, "ours", "ours_text_only"):
        print(
            f"{name:22} Recall@10 {figures[name]['recall@10']:.4f}  MRR {figures[name]['mrr']:.4f}"
        )  # type: ignore[index]
    print(f"ours / best peer on Recall@10: {figures['ours_vs_best_peer_recall@10']}")
    print(
        f"rank a day for 10,000 readers: {figures['rank_day_10k_readers_s']} s; refit after "
        f"a save (1,000-paper library): {figures['refit_1000_ms']} ms"
    )
    if options.json:
        print(orjson.dumps(figures).decode())


def tfidf_svm(corpus, row, library, candidates, background) -> list[str]:  # type: ignore[no-untyped-def]
    """arxiv-sanity-lite: a linear SVM per tag over tf-idf, the tag's papers against the rest."""
    positives = [row[i] for i in library]
    negatives = [row[i] for i in dict.fromkeys([*candidates, *background]) if i not in set(library)]
    x = corpus[positives + negatives]
    y = np.array([1] * len(positives) + [0] * len(negatives))
    svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
    svm.fit(x, y)
    decided = svm.decision_function(corpus[[row[i] for i in candidates]])
    return [candidates[i] for i in np.argsort(-decided, kind="stable")]


def similarity(vectors, papers, library, candidates) -> list[str]:  # type: ignore[no-untyped-def]
    """zotero-arxiv-daily: cosine to each library paper, weighted 1 / (1 + log10(rank)) by how
    recently it was added (newest first), summed."""
    newest_first = sorted(library, key=lambda i: papers[i]["listed"][0], reverse=True)
    weights = 1 / (1 + np.log10(np.arange(len(newest_first)) + 1))
    weights /= weights.sum()
    own = np.array([vectors[i] for i in newest_first])
    scored = np.array([vectors[i] for i in candidates]) @ own.T @ weights
    return [candidates[i] for i in np.argsort(-scored, kind="stable")]


def ours(vectors, papers, library, candidates, day, background, authors=True) -> list[str]:  # type: ignore[no-untyped-def]
    """dailypapers.ranking.recommend as the product runs it: fitted against a background of
    other papers, then scoring the day (`authors=False`: without the authors' signal)."""
    today = date.fromisoformat(day)
    examples = [
        Example(
            vectors[i],
            1.0,
            save_weight((today - date.fromisoformat(papers[i]["listed"][0])).days),
            papers[i]["authors"] if authors else (),
        )
        for i in library
    ]
    mine = set(library)
    model = fit(examples, np.array([vectors[i] for i in background if i not in mine]))
    authorship = Authorship.of([papers[i]["authors"] for i in candidates])
    positives = np.array([e.vector for e in examples])
    weights = np.array([e.weight for e in examples])
    day_vectors = np.array([vectors[i] for i in candidates])
    scored = scores(model, day_vectors, authorship, positives, weights).scores
    return [candidates[i] for i in np.argsort(-scored, kind="stable")]


def timings(vectors: dict[str, np.ndarray], papers: dict[str, dict]) -> dict[str, float]:
    """Ranking one day (500 papers) for 10,000 readers of 50 saved papers each, and refitting
    one reader's model for a 1,000-paper library against the 2,000-paper background."""
    rng = np.random.default_rng(SEED)
    ids = list(vectors)
    pool = np.array([vectors[i] for i in ids])
    authors = [papers[i]["authors"] for i in ids]
    chosen = rng.choice(len(pool), 3500, replace=False)
    day, library, background = chosen[:500], chosen[500:1500], chosen[1500:]
    examples = [Example(pool[n], 1.0, 1.0, authors[n]) for n in library]
    started = time.perf_counter()
    refits = 20
    for _ in range(refits):
        fit(examples, pool[background])
    refit_ms = (time.perf_counter() - started) / refits * 1000
    model = fit(examples[:50], pool[background])
    positives, weights = pool[library[:50]], np.ones(50, dtype=np.float32)
    day_authors = Authorship.of([authors[n] for n in day])
    started = time.perf_counter()
    sample = 200  # readers timed; the figure is scaled to 10,000
    for _ in range(sample):
        scores(model, pool[day], day_authors, positives, weights)
    per_reader = (time.perf_counter() - started) / sample
    return {
        "refit_1000_ms": round(refit_ms, 1),
        "rank_day_10k_readers_s": round(per_reader * 10_000, 2),
    }


if __name__ == "__main__":
    main()
