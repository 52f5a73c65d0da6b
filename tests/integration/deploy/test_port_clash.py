import socket

import pytest

from deploy.local.stack import procs
from deploy.local.stack.config import StackSettings


def test_a_port_in_use_is_named_in_the_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        s = StackSettings(state_dir=tmp_path)
        comp = procs.Component(name="kafka", argv=["true"], marker="x", ports={"kafka_port": port},
                               address=f"127.0.0.1:{port}")
        with pytest.raises(procs.StackError) as err:
            procs.check_ports_free(s, comp)
    assert str(port) in str(err.value) and "kafka" in str(err.value)
    assert "AFTERCART_STACK_KAFKA_PORT" in str(err.value)
