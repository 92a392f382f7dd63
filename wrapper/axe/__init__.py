"""axe: the operator CLI of axelabs.onboard.

It resolves the customer, builds the inventory, runs the collection's playbooks through
ansible-runner (check mode first for anything that changes), and reports per host. It holds
no deployment logic: everything it does, `ansible-playbook` can do with the same inventory.
"""
__version__ = "0.1.0"
