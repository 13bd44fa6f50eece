# Sources of weft_proxy besides src/app/app.cc, relative to proxy/.
set(WEFT_PROXY_CORE_SOURCES
)
