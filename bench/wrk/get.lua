-- A plain GET of the URL given to wrk; headers come from wrk's -H options.
dofile("report.lua")
