"""One ABI source: RTL, C++ driver and Python agree, and a mismatch is refused."""
import pytest

import veridian as vd
from veridian import _veridian as core
from veridian import abi


def test_python_and_cpp_constants_agree():
    cpp = core.abi_constants()
    py = {k: v for k, v in vars(abi).items() if k.isupper() and isinstance(v, int)}
    assert cpp == py
    assert len(cpp) > 50


@pytest.mark.parametrize("width", vd.rtl_widths())
def test_rtl_reports_the_same_abi(width):
    sim = vd.Simulation()
    h = sim.add_host("h", nic=vd.RtlNic(data_width=width))
    assert h.nic.read_reg(abi.REG_ABI_ID) == abi.ABI_ID_VALUE
    assert h.nic.read_reg(abi.REG_VERSION) == abi.ABI_VERSION
    assert h.nic.read_reg(abi.REG_DATA_WIDTH) == width
    qc = h.nic.read_reg(abi.REG_QUEUE_COUNT)
    assert qc & 0xFF >= 4 and (qc >> 8) & 0xFF >= 4
    # the driver's rings are where the registers say
    assert h.nic.read_reg(abi.TXQ_BASE + abi.REG_Q_CTRL) == 1
    assert h.nic.read_reg(abi.RXQ_BASE + abi.REG_Q_PROD) == 1 << 8  # RX ring filled


def test_driver_refuses_a_mismatched_abi():
    sim = vd.Simulation()
    with pytest.raises(vd.AbiMismatchError, match="ABI id"):
        sim.add_host("h", nic=vd.RtlNic(expect_abi_id=abi.ABI_ID_VALUE ^ 1))


def test_abi_id_tracks_the_spec(tmp_path):
    import json, pathlib, subprocess
    root = pathlib.Path(__file__).resolve().parents[2]
    spec = json.loads((root / "offload/abi/nic_abi.json").read_text())
    spec["constants"]["MAX_FRAME"] += 64
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    subprocess.run(["/usr/bin/python3", str(root / "offload/abi/gen_abi.py"), str(p), str(tmp_path / "out")], check=True)
    text = (tmp_path / "out/python/veridian_abi.py").read_text()
    new_id = int(text.split("ABI_ID_VALUE = ")[1].split()[0])
    assert new_id != abi.ABI_ID_VALUE
    sv = (tmp_path / "out/rtl/vd_abi_pkg.sv").read_text()
    assert f"ABI_ID_VALUE = 32'd{new_id};" in sv
