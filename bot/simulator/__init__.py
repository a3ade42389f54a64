"""The built-in appliance simulator, for the demo and the tests only (its HTTP protocol is ours).

``scenarios``: pure per-scenario behaviour; ``pcapgen``: scapy-built captures;
``server``: the aiohttp app (``create_app``) and ``start_simulator``. Import those modules directly,
so that importing ``scenarios`` alone stays light.
"""
