"""Claims about trained hypernetworks (Sec. 2.2-2.5, Figs. 2-6), checked on models trained from scratch.

All tests read the profile's run data (harness.py): every seed trained once, every checkpoint evaluated
along the beta grid. Thresholds are the paper's where it gives them (0.07, 0.15) and otherwise stated in
each docstring, with the reason, independently of the outcome.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

import numpy as np
import pytest
from scipy import stats

from paper_claims.structure import dedicated_inputs, peak
from reference.classify import Strategy, default_boundaries

CONVEXITY, NONE = Strategy.CONVEXITY.value, Strategy.NONE.value
STRUCTURED = (Strategy.PUDDING.value, Strategy.DOUBLE_SIDED.value)

CHANNEL_IN_USE = 1.0
"""Nats: a KL below this at every beta means the hypernetwork sends (almost) nothing through its channel
(the paper's case 3d, 'KL sums up to nearly zero for all beta'); 1 nat is under 0.002 nats per weight."""
MEMORISED = 10.0
"""Nats at the lowest betas that count as a memorised assignment: choosing which of 48 hidden neurons
serves each of 16 inputs takes at least log2(48)*16 bits ~ 62 nats, so 10 nats is a lenient floor."""


def by_seed_and_beta(rows):
    series = defaultdict(list)
    for r in rows:
        series[(r["seed"], r["beta"])].append((r["step"], r["strategy"]))
    return {key: sorted(value) for key, value in series.items()}


@pytest.mark.claim("CONVEXITY-FIRST")
def test_convexity_appears_first(run, record):
    """Paper, Sec. 2.3 and Fig. 3: "the convexity strategy always develops first, and other strategies
    differentiate away from there."

    Checked: for every seed and every beta of the grid, the first strategy along training (after the
    untrained 'none') is convexity; and at least half of the seeds later develop another strategy, so a run
    that never leaves convexity does not pass.
    """
    first_other, violations, never = {}, [], []
    for (seed, beta), series in by_seed_and_beta(run.sweep).items():
        labels = [label for _, label in series if label != NONE]
        if not labels:
            never.append((seed, beta))
            continue
        if labels[0] != CONVEXITY:
            violations.append({"seed": seed, "beta": beta, "first": labels[0]})
        later = [step for step, label in series if label in STRUCTURED]
        if later:
            first_other[seed] = min(first_other.get(seed, later[0]), later[0])
    seeds = sorted({r["seed"] for r in run.sweep})
    record("Sec. 2.3, Fig. 3: convexity always develops first; pudding and double-sided differentiate from it",
           f"{len(violations)} of {len(seeds) * len(run.profile.betas)} (seed, beta) series start elsewhere than "
           f"convexity; {len(first_other)}/{len(seeds)} seeds leave it (first structured step: {first_other})",
           violations=violations, never_classified=never, first_structured_step=first_other, seeds=seeds)
    assert not violations, f"series whose first strategy is not convexity: {violations[:5]}"
    assert not never, f"series that never computed the L1 norm: {never[:5]}"
    assert 2 * len(first_other) >= len(seeds), f"only {len(first_other)} of {len(seeds)} seeds left convexity"


@pytest.mark.claim("STRATEGIES")
def test_strategies_are_separated_and_match_the_weights(run, record):
    """Paper, Sec. 2.2 and Fig. 2: networks "cluster into three general strategies in order parameter space".

    Checked over every classified network (all seeds, checkpoints and betas, 'none' excluded):
    (1) separation: fewer than 15% lie within a factor 1.5 of a boundary in the classifier's coordinates
        (the band covers about a third of the log-distance between typical convexity, rho ~ 2.5, and pudding,
        rho ~ 30, networks, so a continuum of intermediates would put far more there);
    (2) at least two strategies occur;
    (3) the labels match the weights by a measure the classifier does not use (structure.py): pudding
        networks have a dedicated hidden neuron for at least 75% of the inputs on average, with one sign
        (agreement >= 0.9); convexity networks for at most 35%.
    """
    b = default_boundaries()
    band = np.log(1.5)
    near, counted = 0, 0
    for r in run.sweep:
        if r["strategy"] == NONE:
            continue
        counted += 1
        margins = [abs(np.log(r["rho"] / b.rho))]
        if r["strategy"] in STRUCTURED:
            margins.append(abs(np.log(max(r["balance"], 1e-12) / b.balance)))
        near += min(margins) < band
    present = sorted({r["strategy"] for r in run.sweep} - {NONE})
    structure = defaultdict(list)
    for r in run.structure:
        structure[r["strategy"]].append((r["coverage"], r["sign_agreement"]))
    summary = {k: {"count": len(v), "coverage": float(np.mean([c for c, _ in v])),
                   "sign_agreement": float(np.mean([a for _, a in v]))} for k, v in structure.items()}
    counts = ", ".join(f"{k} {v['count']}" for k, v in summary.items() if k != NONE)
    shapes = "; ".join(f"{k} coverage {v['coverage']:.2f}, sign agreement {v['sign_agreement']:.2f}"
                       for k, v in summary.items() if k in ("pudding", CONVEXITY))
    record("Sec. 2.2, Fig. 2: three clusters in (alpha_1, alpha_2); hand-picked boundaries",
           f"{near}/{counted} ({near / max(counted, 1):.0%}) near a boundary; {counts}; {shapes}",
           near_boundary=near, classified=counted, strategies=present, structure=summary,
           boundaries={"rho": b.rho, "balance": b.balance})
    assert counted > 0 and near < 0.15 * counted, f"{near} of {counted} networks lie within a factor 1.5 of a boundary"
    assert len(present) >= 2, f"only {present} occur"
    if "pudding" in summary:
        assert summary["pudding"]["coverage"] >= 0.75 and summary["pudding"]["sign_agreement"] >= 0.9, summary
    if CONVEXITY in summary:
        assert summary[CONVEXITY]["coverage"] <= 0.35, summary


@pytest.mark.claim("BETA-TRADEOFF")
def test_beta_trades_loss_against_kl(run, record, request):
    """Paper, Sec. 2 and A.2.2: "a higher beta values simplicity over loss, and a lower beta values loss
    over simplicity".

    Checked at every (seed, checkpoint) where the channel is in use (max KL over the grid >= 1 nat; with
    less there is nothing to trade, the paper's collapsed front of case 3d): the median Spearman
    correlation of log beta with KL is <= -0.5 and with the loss >= +0.5.
    """
    groups = defaultdict(list)
    for r in run.sweep:
        groups[(r["seed"], r["step"])].append(r)
    if run.profile.name == "full":
        request.applymarker(pytest.mark.xfail(strict=False, reason="the loss half does not reproduce in the full "
                            "profile: median Spearman(log beta, loss) +0.39 < +0.5 over 149 checkpoints (KL half -0.80 "
                            "holds); see RESULTS.md"))
    kl_corr, loss_corr, used = [], [], []
    for key, rows in sorted(groups.items()):
        if key[1] == 0 or max(r["kl"] for r in rows) < CHANNEL_IN_USE:
            continue
        betas = np.log([r["beta"] for r in rows])
        kl_corr.append(stats.spearmanr(betas, [r["kl"] for r in rows]).statistic)
        loss_corr.append(stats.spearmanr(betas, [r["loss"] for r in rows]).statistic)
        used.append(key)
    if not used:
        reason = ("the channel is never in use after step 0 (KL < 1 nat at every beta): the front has collapsed "
                  "(the paper's case 3d) and there is nothing to trade")
        record("Sec. 2, A.2.2: higher beta, lower KL and higher loss", "skipped: " + reason)
        pytest.skip(reason)
    record("Sec. 2, A.2.2: higher beta, lower KL and higher loss",
           f"median Spearman(log beta, KL) {median(kl_corr):+.2f}, (log beta, loss) {median(loss_corr):+.2f} "
           f"over {len(used)} checkpoints with the channel in use",
           spearman_kl=kl_corr, spearman_loss=loss_corr, checkpoints=used)
    assert median(kl_corr) <= -0.5 and median(loss_corr) >= 0.5


def final_rows(run):
    step = run.final_step()
    return [r for r in run.sweep if r["step"] == step]


@pytest.mark.claim("ENCODER-ABLATION-RANDOM")
def test_decoder_only_loses_nothing_without_kl(run, record):
    """Paper, Sec. 2.3 and Fig. 4: where the KL is near zero at every beta (case 3d), generating from the
    decoder alone leaves the loss unaffected.

    Checked at the last checkpoint, for each seed whose KL is below 1 nat at every beta: the decoder-only
    loss exceeds the encoder's by at most 0.02 + 10% (the two differ only by sampling z from p instead of q,
    with the same noise and data).
    """
    per_seed = defaultdict(list)
    for r in final_rows(run):
        per_seed[r["seed"]].append(r)
    random_seeds = {s: rows for s, rows in per_seed.items() if max(r["kl"] for r in rows) < CHANNEL_IN_USE}
    if not random_seeds:
        pytest.skip("no seed has KL < 1 nat at every beta at the last checkpoint (no case 3d in this run)")
    gaps = {s: max(r["decoder_loss"] - r["loss"] - 0.1 * r["loss"] for r in rows) for s, rows in random_seeds.items()}
    record("Sec. 2.3, Fig. 4: case 3d builds the pudding from the decoder alone",
           f"{len(random_seeds)} seeds with KL < 1 nat everywhere; worst decoder-only excess over 1.1 x loss "
           f"{max(gaps.values()):+.4f}", excess=gaps,
           losses={s: [(r["beta"], r["loss"], r["decoder_loss"]) for r in rows] for s, rows in random_seeds.items()})
    assert max(gaps.values()) <= 0.02, gaps


@pytest.mark.claim("ENCODER-ABLATION-MEMORISED")
def test_decoder_only_fails_where_an_assignment_is_memorised(run, record):
    """Paper, Sec. 2.3 and Fig. 4: where the hypernetwork memorised an assignment (large KL at low beta),
    removing the encoder breaks the network.

    Checked at the last checkpoint, for each seed with KL >= 10 nats at the lowest beta: the decoder-only loss
    there exceeds the encoder's by at least 0.05 (a third of the paper's 0.15 contour).
    """
    rows = final_rows(run)
    lowest = min(r["beta"] for r in rows)
    low = {r["seed"]: r for r in rows if r["beta"] == lowest}
    memorised = {s: r for s, r in low.items() if r["kl"] >= MEMORISED}
    if not memorised:
        reason = (f"no seed memorised an assignment (KL at beta {lowest:g}: "
                  f"{ {s: round(r['kl'], 3) for s, r in low.items()} } nats, below {MEMORISED:g}); this run has only case 3d")
        record("Sec. 2.3, Fig. 4: memorised assignments need the encoder", "skipped: " + reason,
               kl_at_lowest_beta={s: r["kl"] for s, r in low.items()})
        pytest.skip(reason)
    gaps = {s: r["decoder_loss"] - r["loss"] for s, r in memorised.items()}
    record("Sec. 2.3, Fig. 4: memorised assignments need the encoder", f"decoder-only minus encoder loss {gaps}",
           gaps=gaps)
    assert min(gaps.values()) >= 0.05, gaps


@pytest.mark.claim("SIZE-GENERALISATION")
@pytest.mark.xfail(strict=False, reason="does not reproduce with this implementation: decoder-only networks are only "
                   "good at the trained (16, 48); their output layer does not rescale with the input and hidden "
                   "dimensions (see RESULTS.md for the measured grid)")
def test_networks_generated_at_other_sizes_compute_the_norm(run, record):
    """Paper, Sec. 2.4 and Fig. 5: a hypernetwork trained only at (16, 48) "can produce networks of many
    different shapes which all compute the L1 norm with reasonable accuracy"; the low-loss region extends to
    input dimensions above 16.

    Checked: some decoder-only network with input dimension > 16 has loss below 0.15 (the paper's blue contour).
    """
    above = [r for r in run.sizes if r["input_dim"] > 16]
    best = min(above, key=lambda r: r["loss"])
    trained = [r for r in run.sizes if (r["input_dim"], r["hidden_dim"]) == (16, 48)]
    below_red = [(r["input_dim"], r["hidden_dim"]) for r in run.sizes if r["loss"] < 0.07]
    below_blue = [(r["input_dim"], r["hidden_dim"]) for r in run.sizes if r["loss"] < 0.15]
    record("Sec. 2.4, Fig. 5: low loss (< 0.07 red, < 0.15 blue contours) beyond 16 inputs",
           f"best loss above 16 inputs {best['loss']:.3f} at {best['input_dim']},{best['hidden_dim']}; "
           f"(16, 48): {trained[0]['loss'] if trained else float('nan'):.3f}; below 0.15 at {below_blue}",
           best_above_16=best, below_007=below_red, below_015=below_blue, grid=run.sizes)
    assert best["loss"] < 0.15, f"best decoder-only loss above 16 inputs is {best['loss']:.3f} at {best}"


def adam_network(run):
    return [np.asarray(w) for w in run.adam["weights"]], [np.asarray(b) for b in run.adam["biases"]]


@pytest.mark.claim("ADAM-LOSS")
def test_adam_reaches_a_lower_loss(run, record):
    """Paper, Sec. 2.5: "The resulting network has a lower loss than the networks generated via hypernetwork".

    Checked: the Adam-trained 16-48-1 network's loss (fresh data) is below the best final hypernetwork loss
    over all seeds and betas.
    """
    from paper_claims.harness import l1_loss

    adam_loss = l1_loss(*adam_network(run), run.profile.eval_samples, 1)
    best = min(final_rows(run), key=lambda r: r["loss"])
    record("Sec. 2.5: Adam's network has the lower loss",
           f"Adam loss {adam_loss:.4f} ({run.adam['steps']} steps) vs hypernetwork best {best['loss']:.4f}",
           adam_loss=adam_loss, hypernetwork_best=best, adam_steps=run.adam["steps"])
    assert adam_loss < best["loss"]


@pytest.mark.claim("ADAM-STRUCTURE")
@pytest.mark.xfail(strict=False, reason="does not reproduce by the measure stated before the first run: Adam's "
                   "first layer is MORE peaked (quick profile: peak 57.8 vs the hypernetwork's 30.3; see RESULTS.md). "
                   "Its dedicated weights mix signs where the pudding's share one (reported, not asserted: chosen "
                   "after the fact)")
def test_adam_network_has_less_structure(run, record):
    """Paper, Sec. 2.5 and Fig. 6: Adam's network "is much more difficult to interpret".

    Checked by the measure stated before the first run: the peak (strongest first-layer weight in units of the
    median |weight|, the classifier's rho) of the hypernetwork's best-loss final network is at least twice
    Adam's, since interpretable strategies concentrate each input's computation in a few strong weights.
    Also reported: both networks' dedicated-neuron coverage and sign agreement (structure.py).
    """
    weights, _ = adam_network(run)
    best = min(final_rows(run), key=lambda r: r["loss"])
    adam_peak = peak(weights[0])
    adam_coverage, adam_agreement = dedicated_inputs(weights[0])
    hyper_coverage, hyper_agreement = dedicated_inputs(np.asarray(run.example["weights"][0]))
    record("Sec. 2.5, Fig. 6: Adam's network is messier",
           f"peak: Adam {adam_peak:.1f} vs hypernetwork {best['rho']:.1f}; dedicated-weight sign agreement: Adam "
           f"{adam_agreement:.2f} vs hypernetwork {hyper_agreement:.2f}",
           adam_peak=adam_peak, hypernetwork_peak=best["rho"], adam_coverage=adam_coverage,
           adam_sign_agreement=adam_agreement, hypernetwork_coverage=hyper_coverage,
           hypernetwork_sign_agreement=hyper_agreement)
    assert best["rho"] >= 2 * adam_peak


@pytest.mark.claim("SEED-DEPENDENCE-MEMORISED")
def test_memorised_assignments_do_not_depend_on_the_seed(run, record):
    """Paper, Sec. 2.2 and 2.5: "A low seed dependence indicates that the hypernetwork is using memorized
    information about configurations of weights"; the pudding's assignment "is hardcoded ... changing the
    generation seed does not change the order of the hidden neurons".

    Checked at the last checkpoint, for each seed with KL >= 10 nats at the lowest beta (a memorised
    assignment): its seed dependence alpha_3 there is below 0.5, half the value of independent random
    matrices (alpha_3 = 1).
    """
    rows = final_rows(run)
    lowest = min(r["beta"] for r in rows)
    low = {r["seed"]: r for r in rows if r["beta"] == lowest}
    memorised = {s: r for s, r in low.items() if r["kl"] >= MEMORISED}
    alpha_3 = {s: r["alpha_3"] for s, r in low.items()}
    if not memorised:
        reason = (f"no seed memorised an assignment (KL at beta {lowest:g} below {MEMORISED:g} nats); seed dependence "
                  f"there: {alpha_3} (random assignments, as in case 3d)")
        record("Sec. 2.2: memorised assignments have low seed dependence", "skipped: " + reason, alpha_3=alpha_3)
        pytest.skip(reason)
    record("Sec. 2.2: memorised assignments have low seed dependence", f"alpha_3 of memorising seeds: "
           f"{ {s: round(r['alpha_3'], 3) for s, r in memorised.items()} }", alpha_3=alpha_3)
    assert max(r["alpha_3"] for r in memorised.values()) < 0.5
