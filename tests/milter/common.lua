-- common.lua - helpers for relaygate-milter's miltertest scripts.
--
-- Globals from run.sh (miltertest -D): milter (the binary), conf (the
-- configuration file), socket (its milter.socket).

failures = 0
checks = 0

function check(ok, what)
	checks = checks + 1
	if ok then
		mt.echo("ok - " .. what)
	else
		failures = failures + 1
		mt.echo("not ok - " .. what)
	end
end

function must(err, what)
	if err ~= nil then
		error(what .. ": " .. tostring(err))
	end
end

function start_filter(config)
	mt.startfilter(milter, "-f", "-c", config)
end

-- connect: a fresh, negotiated connection that has said HELO
function connect()
	local conn = mt.connect(socket, 100, 0.05)
	if conn == nil then
		error("cannot connect to " .. socket)
	end
	must(mt.negotiate(conn, nil, nil, nil), "negotiate")
	must(mt.conninfo(conn, "client.example", "192.0.2.25"), "conninfo")
	must(mt.helo(conn, "client.example"), "helo")
	return conn
end

-- read_eml: a message file as its header fields (name, value as sent by
-- the MTA: everything after the colon, folding kept as LF) and its body
-- (CRLF line ends, as the MTA sends it)
function read_eml(path)
	local f = assert(io.open(path, "rb"))
	local data = f:read("a")
	f:close()
	data = data:gsub("\r\n", "\n")
	local head, body = data:match("^(.-)\n\n(.*)$")
	if head == nil then
		head, body = data, ""
	end
	local headers = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #headers > 0 then
			local h = headers[#headers]
			h.value = h.value .. "\n" .. line
		else
			local name, value = line:match("^([^:]+):(.*)$")
			if name ~= nil then
				headers[#headers + 1] = { name = name, value = value }
			end
		end
	end
	body = body:gsub("\n", "\r\n")
	return headers, body
end

-- send: one message; returns after end of message, or at the first step
-- that got a final answer.  Returns the last reply code (a character) and
-- whether it answered the end of message.
function send(conn, from, rcpts, headers, body, qid)
	must(mt.macro(conn, SMFIC_MAIL, "i", qid or "TESTQID",
	              "{auth_authen}", "seller@example.com"), "macro")
	must(mt.mailfrom(conn, from), "mailfrom")
	for _, r in ipairs(rcpts) do
		must(mt.rcptto(conn, r), "rcptto")
	end
	must(mt.data(conn), "data")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return string.char(mt.getreply(conn)), false
	end
	for _, h in ipairs(headers) do
		must(mt.header(conn, h.name, h.value), "header")
		if mt.getreply(conn) ~= SMFIR_CONTINUE then
			return string.char(mt.getreply(conn)), false
		end
	end
	must(mt.eoh(conn), "eoh")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return string.char(mt.getreply(conn)), false
	end
	local chunk = 65535
	local i = 1
	while i <= #body do
		must(mt.bodystring(conn, body:sub(i, i + chunk - 1)), "body")
		local r = mt.getreply(conn)
		if r == SMFIR_SKIP then
			break
		end
		if r ~= SMFIR_CONTINUE then
			return string.char(r), false
		end
		i = i + chunk
	end
	must(mt.eom(conn), "eom")
	return string.char(mt.getreply(conn)), true
end

TEMPFAIL_TEXT = "relaygate: temporary failure checking message, " ..
	"try again later"

-- outcome: what the milter decided, as a verdict name ("reject",
-- "quarantine", "warn", "pass", "tempfail", "accept-untouched") and the
-- X-Relaygate value it added (or nil).  miltertest compares replies only
-- whole: a reply code that is not our exact 451 is the 550 list.
function outcome(conn, reply, at_eom)
	local y = string.char(SMFIR_REPLYCODE)
	if reply == string.char(SMFIR_TEMPFAIL) or
	   (reply == y and (not at_eom or
	    mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1", TEMPFAIL_TEXT)))
	then
		return "tempfail", nil
	end
	if reply == string.char(SMFIR_ACCEPT) and not at_eom then
		return "accept-untouched", nil
	end
	local hdr = mt.getheader(conn, "X-Relaygate", 0)
	if reply == y then
		return "reject", hdr
	end
	-- held in relaygate's store, the MTA's copy discarded (250 to the
	-- client); the MTA's own hold queue is not used
	if reply == string.char(SMFIR_DISCARD) or
	   mt.eom_check(conn, MT_QUARANTINE) then
		return "quarantine", hdr
	end
	if hdr == nil then
		return "accept-untouched", nil
	end
	return hdr:match("^%s*(%a+)"), hdr
end

-- rules_of: the sorted, comma-joined rule ids of a header value
function rules_of(hdr)
	if hdr == nil then
		return ""
	end
	local list = hdr:match("rules=([%a%-,]+)")
	if list == nil then
		return ""
	end
	local t = {}
	for r in list:gmatch("[^,]+") do
		t[#t + 1] = r
	end
	table.sort(t)
	return table.concat(t, ",")
end
