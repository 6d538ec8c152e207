"""«¿Esto es oficial?»: whether a link, a number or a message a citizen received comes from the State.

Pure functions over the text and the lists in `data/dominios_oficiales.yml` and `data/senales_fraude.yml`; a link
is parsed, never followed or fetched (the public suffix list is the snapshot bundled with tldextract). The action
`action_verificar_mensaje` and the gateway's message-check stage both call `check_message` and word its verdict
with `word_check`.
"""
