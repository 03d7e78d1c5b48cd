"""The audit report's utility section and the reuse rule of the unprotected audit."""

import numpy as np

from audits import AuditReport, audit_unprotected
from audits.run import AggregateUtility
from audits.utility import PredictionError, UtilityResult
from publisher.core import Adversary
from publisher.core.adversary import AuditSettings

from tests.publisher.engine.test_simulate import heavy_table

UTILITY = UtilityResult(
    holdout_users=10,
    holdout_ratings=25,
    holdout_fraction=0.1,
    original=PredictionError(baseline_rmse=1.0, mf_rmse=0.9),
    released=PredictionError(baseline_rmse=1.25, mf_rmse=1.0),
    rating_histogram_tvd=0.05,
    item_popularity_spearman=0.8,
    kept={"ratings": 0.5, "users": 1.0, "items": 0.75},
)


def test_the_utility_section_holds_the_microdata_figures_and_the_dp_means_error():
    assert AuditReport([], []).utility_section() is None
    microdata = AuditReport([], [], utility=UTILITY).utility_section()
    assert microdata["baseline_rmse_increase"] == 0.25
    assert microdata["mf_rmse_increase"] == 0.09999999999999998
    assert "dp_item_mean_relative_error" not in microdata
    means = AuditReport([], [], aggregates=AggregateUtility(0.125)).utility_section()
    assert means == {"dp_item_mean_relative_error": 0.125}
    both = AuditReport([], [], utility=UTILITY, aggregates=AggregateUtility(None)).utility_section()
    assert both == microdata | {"dp_item_mean_relative_error": None}


def test_the_unprotected_audit_fits_only_its_own_data_and_settings():
    table = heavy_table(n_users=60)
    settings = AuditSettings(targets=20, adversaries=(Adversary(known_items=4),))
    drawn = audit_unprotected(table, settings, seed=np.random.SeedSequence(0))
    assert drawn.fits(table, settings)
    assert not drawn.fits(table, settings.with_targets(21))
    assert not drawn.fits(heavy_table(seed=1, n_users=60), settings)
