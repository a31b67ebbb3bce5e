"""Work for the workers: the jobs table and its leases (`queue`), and the loop that claims
and runs jobs (`worker`), the same in `serve`'s thread and in `dailypapers worker`."""
