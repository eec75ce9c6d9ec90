import os

from hypothesis import HealthCheck, settings

# Property tests: enough examples to find edge cases, no per-example deadline (the machine is shared).
settings.register_profile("almanac", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "almanac"))
