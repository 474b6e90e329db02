"""Model-as-silicon (chapter 4): the economics and the silicon budget of a chip hard-wired to one model
(Taalas HC1 holds Llama 3.1 8B in mask ROM; a new model means new metal layers).

**Latency budget.** At ``v`` tokens/s per user a token takes ``1/v`` seconds; through ``L``
layers in sequence that is ``1 / (v L)`` per layer, ``f / (v L)`` clock cycles at ``f`` Hz. Doing
``2 P`` operations per token at that rate needs ``P v / f`` multiply-accumulators busy every cycle.
Storing ``P`` weights at ``b`` bits needs ``P b`` ROM bits.

**Scaling.** With ROM for ``P_chip * b_chip`` bits per die, a model of ``P`` parameters at ``b``
bits needs ``n = ceil(P b / (P_chip b_chip))`` dies, each with different weights, hence ``n``
incremental tape-outs. Layers run in sequence, so one user's token crosses every die:

    t_token = (P_active / P_chip) * t_chip  +  (n - 1) * t_hop

(``t_chip``: the reference die's time per token over its own ``P_chip`` weights).

**Break-even.** Serving ``R`` tokens/s that would cost ``c`` USD per token on GPUs, hard-wiring
costs the tape-outs ``NRE = n_tapeouts * (masks * mask_usd + engineering_usd)`` and
``N = max(R / (r_chip * u), n)`` chips at price ``p`` each (worthless once the model retires:
the metal is the model), then only their energy ``e`` USD/h each. GPUs keep serving during
the ``lead`` months of fabrication and deployment, so the hard-wired fleet pays off after

    h* = (NRE + N p) / (3600 R c - N e)        hours in service (infinite if the saving <= 0)
    T* = lead + h*                             model lifetime needed to break even

``T*`` never rises with ``R``: more volume spreads the tape-out over more tokens.

The pieces, one module each: :mod:`.costs` (tape-out, schedule and quantisation tables),
:mod:`.silicon_budget`, :mod:`.scaling` (beyond one die), :mod:`.break_even`, :mod:`.zoo` (a
model zoo under a Zipf law) and :mod:`.checklist`; every name is also importable from here.
"""

from __future__ import annotations

from .break_even import TapeoutCase as TapeoutCase
from .break_even import break_even_grid as break_even_grid
from .break_even import break_even_months as break_even_months
from .break_even import hc_chips as hc_chips
from .break_even import lifetime_costs as lifetime_costs
from .break_even import tapeout_case as tapeout_case
from .checklist import Verdict as Verdict
from .checklist import hardwire_checklist as hardwire_checklist
from .costs import REFERENCE_CHIP as REFERENCE_CHIP
from .costs import SCENARIO_BOUND as SCENARIO_BOUND
from .costs import Bound as Bound
from .costs import QualityRow as QualityRow
from .costs import _costs as _costs
from .costs import _energy as _energy
from .costs import _money as _money
from .costs import _positive as _positive
from .costs import _quality as _quality
from .costs import cost_assumption as cost_assumption
from .costs import cost_assumptions as cost_assumptions
from .costs import lead_months as lead_months
from .costs import quantization_quality as quantization_quality
from .costs import tapeout_usd as tapeout_usd
from .scaling import _chip_rom_bits as _chip_rom_bits
from .scaling import _model_params as _model_params
from .scaling import chips_for_model as chips_for_model
from .scaling import implied_params_per_chip as implied_params_per_chip
from .scaling import link_gb_s as link_gb_s
from .scaling import pipeline_tokens_per_s_per_user as pipeline_tokens_per_s_per_user
from .scaling import reference_tokens_per_s_per_user as reference_tokens_per_s_per_user
from .scaling import scaling_table as scaling_table
from .silicon_budget import hbm_decode_floor_tokens_per_s as hbm_decode_floor_tokens_per_s
from .silicon_budget import latency_budget as latency_budget
from .silicon_budget import silicon_budget as silicon_budget
from .zoo import zipf_shares as zipf_shares
from .zoo import zoo_plan as zoo_plan
