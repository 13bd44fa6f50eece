# Sources of weft_proxy_policy (lb/, resilience/, route/), relative to proxy/.
set(WEFT_PROXY_POLICY_SOURCES
)
