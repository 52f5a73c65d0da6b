"""The `aftercart` command itself loads, with every group the README names (setup.sh runs
`aftercart stack install`: an import error here breaks the README's two commands)."""
from typer.testing import CliRunner

from deploy.local.cli import app


def test_every_command_group_is_there():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for group in ("stack", "mail", "services", "ingest", "demo", "where"):
        assert group in result.output
