"""The phase verifier: run a tutorial phase's Verify block as checks (`make verify PHASE=N`).

framework.py     checks, the phase registry, the context, the PASS/FAIL report
process.py       the local server, tokens, the MCP client, loopback HTTP
docker.py        the Docker engine and the phase-4 container
files.py         YAML files
infra.py         the infra config and the stack's outputs (names the later phases use)
chart.py         the chart rendered as ArgoCD renders it, and the names kubectl needs
cloud.py         gcloud, kubectl and a port-forward (the live checks)
phase0.py ...    one module per tutorial phase: its checks, in the order they run
cli.py           the command line (scripts/verify_phase.py and `python -m verify`)
"""
