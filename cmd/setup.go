package cmd

// sending is what a sending command checks and prepares before it reads
// any input: a bad setting fails here, with exit 2, before I/O.
type sending struct {
	cfg   *Config
	host  string
	plan  *mailPlan
	d     *delivery
	store *memoryStore // nil when there is no state dir to remember in
}

// prepare loads the configuration and checks the mail, the transport
// and, when in is given, the ignore rules; then it opens the memory of
// what was reported and lets the evaluator watch the failures in it.
func prepare(f *Factory, cf *configFlags, in *inputOptions, trace func(step, detail string)) (*sending, error) {
	cfg, err := loadConfig(cf, f)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	s := &sending{cfg: cfg, host: f.hostname()}
	if s.plan, err = cfg.mailPlan(s.host); err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if s.d, err = cfg.delivery(s.host, trace); err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if in != nil {
		if err := cfg.rules(in); err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		s.store = cfg.memory(f)
		s.store.watch(in)
	}
	return s, nil
}
