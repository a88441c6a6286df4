package host

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pool keeps interpreters initialised and bootstrapped with the gears API,
// so that a new session costs a channel receive instead of ~20-30 ms of
// CPython start-up. A background goroutine refills it.
type pool struct {
	g     *Gears
	ready chan pooled
	kick  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
}

type pooled struct {
	inst *Instance
	out  *logWriter // stdout and stderr, tagged with the session
	site *siteSwitch
}

const maxPool = 16

func newPool(g *Gears) *pool {
	p := &pool{g: g, ready: make(chan pooled, maxPool), kick: make(chan struct{}, 1), quit: make(chan struct{})}
	p.wg.Add(1)
	go p.refill()
	p.poke()
	return p
}

func (p *pool) size() int {
	n := int(p.g.cfg.Int("InterpreterPoolSize"))
	return min(max(n, 0), maxPool)
}

func (p *pool) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *pool) refill() {
	defer p.wg.Done()
	for {
		select {
		case <-p.quit:
			return
		case <-p.kick:
		case <-time.After(time.Second): // InterpreterPoolSize may have grown
		}
		for len(p.ready) < p.size() {
			pi, err := p.create(context.Background())
			if err != nil {
				p.g.log.Error("interpreter pool", "err", err)
				time.Sleep(time.Second)
				break
			}
			select {
			case p.ready <- pi:
			case <-p.quit:
				pi.inst.Close(context.Background())
				return
			}
		}
	}
}

// get returns a ready interpreter, or makes one now if the pool is empty.
func (p *pool) get(ctx context.Context) (pooled, error) {
	defer p.poke()
	select {
	case pi := <-p.ready:
		return pi, nil
	default:
	}
	return p.create(ctx)
}

func (p *pool) create(ctx context.Context) (pooled, error) {
	out := &logWriter{log: p.g.log}
	site := newSiteSwitch()
	in, err := p.g.eng.NewInstance(ctx, InstanceConfig{Stdout: out.stream("stdout"), Stderr: out.stream("stderr"), Site: site})
	if err != nil {
		return pooled{}, err
	}
	if err := in.Exec(ctx, bootstrapCode); err != nil {
		in.Close(ctx)
		return pooled{}, fmt.Errorf("bootstrap gears API: %w", err)
	}
	return pooled{inst: in, out: out, site: site}, nil
}

// bootstrapCode injects RedisGears' globals into __main__.
const bootstrapCode = "import gearsapi as _g\n_g.bootstrap(globals())\ndel _g\n"

func (p *pool) count() int { return len(p.ready) }

func (p *pool) close(ctx context.Context) {
	close(p.quit)
	p.wg.Wait()
	for {
		select {
		case pi := <-p.ready:
			pi.inst.Close(ctx)
		default:
			return
		}
	}
}
