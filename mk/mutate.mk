# Mutation testing of the guard modules: how we know the tests can fail.
#
# mutmut (requirements/mutate.txt) copies app/ and tests/ into mutants/ (ignored),
# changes one thing at a time in the modules listed under [tool.mutmut] in
# pyproject.toml, and runs the fast in-process tests named there (tests/app and
# the sign-in tests that need no browser) against each change, only those that
# reach the changed function. Lines only the server-process tests run are not
# mutated (mutmut cannot see into other processes), and tests marked
# other_process are left out: they reach no mutant. scripts/mutation_report.py
# then prints each module's score and every surviving mutant that
# tests/app/equivalent_mutants.toml does not explain, and fails when a module
# scores below MUTATE_MIN_SCORE percent. scripts/constant_mutants.py then makes
# the changes mutmut cannot (module constants, validators, properties), each
# tested in a fork of one process that has the libraries imported, and fails
# when one survives (both run and report; either failing fails the target). Each
# run starts afresh, so a result never comes from older code or tests.
#
# About 13 minutes on two idle cores (13 min 15 s measured for 3,627 mutants, one
# mutmut child per core); not part of `make test`. Where the time goes: mutmut
# runs the whole selection three times before the first mutant (coverage, which
# test reaches which function, a clean run), then one forked pytest session per
# mutant (~0.07 s before any test runs); a surviving mutant runs every test that
# reaches it, and a mutant that hangs costs mutmut's timeout, (estimate + 1 s) x 15.
# So the selection holds no subprocess tests, the sign-in tests' identity provider
# is started once and shared by the forks (tests/signin/provider.py), their clients
# share one TLS context (loading the CA bundle cost more than an in-process
# request), and a test helper that waits gives up as soon as the app under it has
# failed. MUTATE_ARGS=--max-children=1 spares a busy machine. Each mutant runs in a
# child forked from mutmut (its fastest mode); a child that crashes proves nothing,
# so the report names it as an error to rerun.

MUTATE_MIN_SCORE ?= 90

.PHONY: mutate

$(VENV)/.mutate-installed: requirements/mutate.txt $(VENV)/.dev-installed
	$(UV_INSTALL) -r requirements/mutate.txt
	@touch $@

mutate: $(VENV)/.mutate-installed ## Mutation-test the guard modules, their constants and validators (~13 min)
	rm -rf mutants && mkdir mutants
	@echo "mutmut: mutating the guard modules, running the fast tests against each mutant" >&2
	$(BIN)/mutmut run $(MUTATE_ARGS) > mutants/mutmut.log 2>&1 || \
	  { tr '\r' '\n' < mutants/mutmut.log | tail -n 20 >&2; exit 1; }
	report=0; $(BIN)/python scripts/mutation_report.py --min-score $(MUTATE_MIN_SCORE) || report=$$?; \
	  $(BIN)/python scripts/constant_mutants.py && exit $$report
