"""What every aiohttp server of Huanxin (the ledger, the gateway) does the same way at its edge:
a deadline for slow clients (``slow_clients``) and an access log that cannot print a secret
(``access_log``). Imports nothing of the ledger or the gateway, so both can use it.
"""
