"""Pure URL work shared by campaigns and links: IRIs, allowed destinations, UTM queries."""
