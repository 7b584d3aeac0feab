-- corpus.lua - every corpus message through relaygate-milter, on one
-- connection, to a relay recipient: the verdict must equal what
-- `relaygate check` said for the same file and configuration.
--
-- Globals (miltertest -D): milter, conf, socket, expected (a file of
-- "PATH<TAB>VERDICT" lines), testdir.

dofile(testdir .. "/common.lua")

start_filter(conf)
local conn = connect()
local n = 0

for line in io.lines(expected) do
	local path, want = line:match("^(.-)\t(%a+)$")
	if path ~= nil then
		local headers, body = read_eml(path)
		local rcpt = "<buyer@marketplace.amazon.com>"
		for _, h in ipairs(headers) do
			if h.name:lower() == "to" then
				local a = h.value:match("<([^>]+@marketplace%.[^>]+)>")
				if a ~= nil then
					rcpt = "<" .. a .. ">"
				end
			end
		end
		n = n + 1
		local r, e = send(conn, "<seller@shop.example>", { rcpt }, headers,
		               body, string.format("CORPUS%03d", n))
		local got, hdr = outcome(conn, r, e)
		local name = path:match("([^/]+)$")
		check(got == want, string.format("%s: milter %s, check %s%s",
		      name, tostring(got), want,
		      hdr and (" [" .. hdr .. "]") or ""))
	end
end
mt.disconnect(conn)

mt.echo(string.format("%d checks, %d failed", checks, failures))
if failures > 0 then
	error("corpus failures")
end
