"""Purchasing and stock of the hospital pharmacy and its consumables (axis 4, item 5).

From two CSV files a manager gives (the item master and the stock movements, plus the open
orders if any, :mod:`.contract`): the stock per item and per lot (:mod:`.inventory`), the
consumption forecast per item by demand class (:mod:`.demand`: Croston, SBA, TSB, SES), the
replenishment policy per ABC × VEN class (:mod:`.policy`: safety stock, reorder point, EOQ,
order-up-to level), the alerts (:mod:`.alerts`), a backtest of the service level achieved
(:mod:`.backtest`) and a synthetic pharmacy for demos and tests (:mod:`.synth`).
"""

from hopia.management.stock.contract import (
    StockDataError,
    read_items,
    read_movements,
    read_orders,
)
from hopia.management.stock.policy import PolicySettings

__all__ = ["PolicySettings", "StockDataError", "read_items", "read_movements", "read_orders"]
