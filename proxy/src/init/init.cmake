# Sources of weft_proxy_init, relative to proxy/.
set(WEFT_PROXY_INIT_SOURCES
)
