"""The verify-status reporting channel: CI systems post their job results
in the contract of Gerrit's verify-status plugin
(``POST /changes/{change}/revisions/{revision}/verify-status~verifications``)
and they are stored as verdicts (source 'verify-status') with the plugin's
own fields beside them in ``ci_verifications``."""
