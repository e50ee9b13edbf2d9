-- wrk script: every request carries the next token of $TOKENS (one a line); requests are built once in init.
local reqs, i = {}, 0
init = function(args)
  local path = args[1] or "/api/customer"
  for line in io.lines(os.getenv("TOKENS")) do
    reqs[#reqs + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. line })
  end
  i = 0
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
