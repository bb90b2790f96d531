package kernel

import (
	"fmt"
	"net/netip"
)

// NetDevice is one network interface of the initial namespace.
type NetDevice struct {
	Addr uint64 // the struct net_device
	Name string
	IPv4 []netip.Addr
}

// maxIfaAddrs bounds an interface's address list (a looping ifa_next).
const maxIfaAddrs = 256

// NetDevices walks init_net.dev_base_head (struct net_device.dev_list)
// and each device's IPv4 addresses, ip_ptr->ifa_list along ifa_next
// (include/linux/inetdevice.h, 6.1), as crash's net lists them. A device
// whose addresses are unreadable is kept with the error beside it.
func (k *Kernel) NetDevices() ([]NetDevice, []error) {
	net, err := k.symbol("init_net")
	if err != nil {
		return nil, []error{err}
	}
	headOff, err1 := k.off("struct net", "dev_base_head")
	listOff, err2 := k.off("struct net_device", "dev_list")
	nameOff, err3 := k.off("struct net_device", "name")
	for _, e := range []error{err1, err2, err3} {
		if e != nil {
			return nil, []error{e}
		}
	}
	nodes, err := k.walkList(net + uint64(headOff))
	var warns []error
	if err != nil {
		warns = append(warns, fmt.Errorf("net devices: %w", err))
	}
	var out []NetDevice
	for _, n := range nodes {
		d := NetDevice{Addr: n - uint64(listOff)}
		if d.Name, err = k.ReadString(d.Addr+uint64(nameOff), 16); err != nil {
			warns = append(warns, fmt.Errorf("net_device %#x name: %w", d.Addr, err))
		}
		if d.IPv4, err = k.ipv4(d.Addr); err != nil {
			warns = append(warns, fmt.Errorf("net_device %#x (%s) addresses: %w", d.Addr, d.Name, err))
		}
		out = append(out, d)
	}
	return out, warns
}

// ipv4 reads a device's in_device address list.
func (k *Kernel) ipv4(dev uint64) ([]netip.Addr, error) {
	inDev, err := k.field(dev, "struct net_device", "ip_ptr")
	if err != nil || inDev == 0 {
		return nil, err
	}
	ifa, err := k.field(inDev, "struct in_device", "ifa_list")
	if err != nil {
		return nil, err
	}
	addrOff, err := k.off("struct in_ifaddr", "ifa_address")
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for seen := map[uint64]bool{}; ifa != 0; {
		if seen[ifa] || len(out) >= maxIfaAddrs {
			return out, fmt.Errorf("ifa_list at %#x: %w", ifa, ErrLoop)
		}
		seen[ifa] = true
		var b [4]byte // __be32: network order in memory
		if err := k.Mem.ReadVirt(ifa+uint64(addrOff), b[:]); err != nil {
			return out, err
		}
		out = append(out, netip.AddrFrom4(b))
		if ifa, err = k.field(ifa, "struct in_ifaddr", "ifa_next"); err != nil {
			return out, err
		}
	}
	return out, nil
}
