-- scenarios.lua - relaygate-milter's protocol behaviour, driven by
-- miltertest: not-ours mail accepted before the body, verdicts mapped to
-- replies and headers, forged headers removed, big bodies spilled, the
-- size limit, abort and reuse of a connection, reload on SIGUSR1 (monitor
-- mode on, broken file kept out), and a spool failure tempfailing.
--
-- Globals (miltertest -D): milter, conf, socket, spool, testdir, cli.

dofile(testdir .. "/common.lua")

local RELAY = "<zoh402r3mortp77@marketplace.amazon.com>"
local OTHER = "<friend@example.org>"
local FROM = "<care@shop.example>"

local function hdrs(subject, extra)
	local h = {
		{ name = "From", value = " Shop <care@shop.example>" },
		{ name = "To", value = " Buyer " .. RELAY },
		{ name = "Subject", value = " " .. subject },
		{ name = "MIME-Version", value = " 1.0" },
		{ name = "Content-Type", value = " text/plain; charset=utf-8" },
	}
	for _, e in ipairs(extra or {}) do
		h[#h + 1] = e
	end
	return h
end

local GOOD_SUBJECT = "Delivery of order 302-1234567-7654321"
local GOOD_BODY = "Hello,\r\n\r\nyour order 302-1234567-7654321 ships " ..
	"tomorrow.\r\n\r\nKind regards,\r\nThe shop\r\n"
local BAD_SUBJECT = "Your parcel 100% ready"
local BAD_BODY = "Hello,\r\n\r\ncall us at +49 30 1234 5678 or write to " ..
	"help@shop.example :)\r\n"

local function write_conf(path, monitor, broken)
	local f = assert(io.open(conf, "rb"))
	local text = f:read("a")
	f:close()
	if monitor then
		text = text:gsub('mode = "enforce"', 'mode = "monitor"')
	end
	if broken then
		text = text .. "\nlimits: { this is not libconfig\n"
	end
	f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end

-- the filter runs on a copy of the configuration we can rewrite
local live = spool .. "/../live.conf"
write_conf(live, false, false)
start_filter(live)

local conn = connect()

-- 1. no relay recipient: accepted at DATA, nothing else happens
local r, e = send(conn, FROM, { OTHER }, hdrs(BAD_SUBJECT), BAD_BODY)
check(r == string.char(SMFIR_ACCEPT), "not ours: accepted at DATA")

-- 2. a compliant message: pass header; the sender's forged one removed
r, e = send(conn, FROM, { OTHER, RELAY },
         hdrs(GOOD_SUBJECT, { { name = "X-Relaygate", value = " pass" },
                              { name = "x-relaygate", value = " warn" } }),
         GOOD_BODY)
local v, h = outcome(conn, r, e)
check(v == "pass", "compliant: pass (got " .. tostring(v) .. ")")
check(h == " pass", "compliant: header exactly ' pass' (got " ..
      tostring(h) .. ")")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Relaygate") or
      mt.eom_check(conn, MT_HDRCHANGE, "X-Relaygate"),
      "forged X-Relaygate removed")

-- 3. a violating message on the same connection: 550 5.7.1
r, e = send(conn, FROM, { RELAY }, hdrs(BAD_SUBJECT), BAD_BODY)
v, h = outcome(conn, r, e)
check(v == "reject", "violating: rejected (got " .. tostring(v) .. ")")
check(h == nil, "violating: no header added")

-- 4. abort in the middle, then a fresh message on the same connection
must(mt.macro(conn, SMFIC_MAIL, "i", "ABORTED"), "macro")
must(mt.mailfrom(conn, FROM), "mailfrom")
must(mt.rcptto(conn, RELAY), "rcptto")
must(mt.data(conn), "data")
must(mt.header(conn, "Subject", " half a message"), "header")
must(mt.abort(conn), "abort")
r, e = send(conn, FROM, { RELAY }, hdrs(GOOD_SUBJECT), GOOD_BODY)
v = outcome(conn, r, e)
check(v == "pass", "after abort: next message judged (got " ..
      tostring(v) .. ")")

-- 5. bigger than the memory spool (2K): spilled to a temp file, same verdict
local big = GOOD_BODY .. string.rep("All good here, nothing to see.\r\n", 300)
r, e = send(conn, FROM, { RELAY }, hdrs(GOOD_SUBJECT), big)
v = outcome(conn, r, e)
check(v == "pass", "spilled body: pass (got " .. tostring(v) .. ")")
r, e = send(conn, FROM, { RELAY }, hdrs(BAD_SUBJECT), big .. BAD_BODY)
v = outcome(conn, r, e)
check(v == "reject", "spilled body, violation at the end: reject (got " ..
      tostring(v) .. ")")

-- 6. over max_message_size (64K): the uncheckable action (quarantine)
local huge = string.rep("x", 998) .. "\r\n"
huge = GOOD_BODY .. string.rep(huge, 80)
r, e = send(conn, FROM, { RELAY }, hdrs(GOOD_SUBJECT), huge)
v, h = outcome(conn, r, e)
check(v == "quarantine", "oversize: quarantined (got " .. tostring(v) .. ")")
-- held whole in relaygate's store (not scanned past the limit), with the
-- uncheckable finding
local p = io.popen(cli .. " quarantine -c " .. live .. " list --json")
local held = p:read("a")
p:close()
local size = tonumber(held:match('"size":(%d+)') or "0")
check(held:find('"rules":["uncheckable"]', 1, true) ~= nil and
      held:find('"queue_id":"TESTQID"', 1, true) ~= nil and size > 65536,
      "oversize: held whole in the store, rules=uncheckable (got " ..
      held .. ")")
mt.disconnect(conn)

-- 7. reload: monitor mode on; a violation is delivered with a header
write_conf(live, true, false)
mt.signal(10)   -- SIGUSR1
mt.sleep(1)
conn = connect()
r, e = send(conn, FROM, { RELAY }, hdrs(BAD_SUBJECT), BAD_BODY)
v, h = outcome(conn, r, e)
check(v == "reject" and h ~= nil and h:find("mode=monitor", 1, true),
      "monitor after reload: delivered with header (got " .. tostring(v) ..
      ", " .. tostring(h) .. ")")
check(r == string.char(SMFIR_ACCEPT) or r == string.char(SMFIR_CONTINUE),
      "monitor: accepted")
mt.disconnect(conn)

-- 8. reload with a broken file keeps the running (monitor) configuration
write_conf(live, false, true)
mt.signal(10)
mt.sleep(1)
conn = connect()
r, e = send(conn, FROM, { RELAY }, hdrs(BAD_SUBJECT), BAD_BODY)
v, h = outcome(conn, r, e)
check(h ~= nil and h:find("mode=monitor", 1, true),
      "broken reload keeps the running configuration (got " ..
      tostring(h) .. ")")

-- 9. the spool directory gone: a big message tempfails (never accepted)
write_conf(live, false, false)
os.remove(spool)
r, e = send(conn, FROM, { RELAY }, hdrs(GOOD_SUBJECT), big)
v = outcome(conn, r, e)
check(v == "tempfail", "spool failure: tempfail (got " .. tostring(v) .. ")")
-- and the connection still works for small ones
r, e = send(conn, FROM, { RELAY }, hdrs(GOOD_SUBJECT), GOOD_BODY)
v = outcome(conn, r, e)
check(v == "reject" or v == "pass", "after a tempfail: next message judged")
mt.disconnect(conn)

mt.echo(string.format("%d checks, %d failed", checks, failures))
if failures > 0 then
	error("scenario failures")
end
