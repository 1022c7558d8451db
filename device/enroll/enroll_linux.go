package enroll

func platformDefaults(*Options) {}

func platformProbes(o *Options) []probe {
	return linuxProbes(o)
}
