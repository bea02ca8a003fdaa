-- A POST of BENCH_BODY with Basic credentials BENCH_AUTH, for wrk:
--   BENCH_BODY=... BENCH_AUTH=... wrk -s bench/wrk_post.lua URL
-- wrk itself reports "Non-2xx or 3xx responses" when any request failed.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_AUTH")
