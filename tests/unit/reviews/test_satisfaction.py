from services.reviews.domain.satisfaction import Satisfaction


def _figures(**kw) -> Satisfaction:
    base = dict(asked=0, answered=0, reviewed=0, reviews=0, ratings={n: 0 for n in range(1, 6)}, help_requests=0,
                median_hours_to_review=None, p90_hours_to_review=None)
    return Satisfaction(**{**base, **kw})


def test_rates_and_average_from_the_counts():
    f = _figures(asked=8, answered=4, reviewed=3, ratings={1: 1, 2: 0, 3: 0, 4: 2, 5: 1})
    assert (f.conversion, f.response_rate, f.average_rating) == (0.375, 0.5, 3.5)


def test_nothing_asked_has_no_rates():
    f = _figures()
    assert (f.conversion, f.response_rate, f.average_rating) == (None, None, None)
