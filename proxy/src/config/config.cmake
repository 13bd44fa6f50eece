# Sources of weft_proxy_config, relative to proxy/.
set(WEFT_PROXY_CONFIG_SOURCES
)
